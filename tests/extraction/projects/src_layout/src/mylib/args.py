from mylib.schedules import SCHEDULES


def add_model_args(parser):
    group = parser.add_argument_group("model")
    group.add_argument("--hidden-size", type=int, default=768)
    group.add_argument("--dropout", type=float, default=0.1)
    return parser


def add_data_args(parser):
    parser.add_argument("--data-dir", required=True, help="where the shards are")
    parser.add_argument("--schedule", choices=sorted(SCHEDULES), default="cosine")
