"""Arguments added in a helper module: diagnostics must name this file (issue 17 item 5)."""

import ast


def add_training_args(parser):
    group = parser.add_argument_group("training")
    group.add_argument("--lr", type=float, default=0.1)
    group.add_argument("--epochs", type=int, default=10)
    group.add_argument("--schedule", type=ast.literal_eval, default="[30, 60]")
    group.add_argument("--amp", type=bool, default=False)
    return parser
