import a

FACTOR = 3


def build(parser):
    parser.add_argument("--width", type=int, default=a.scaled())
    parser.add_argument("--factor", type=int, default=FACTOR)
