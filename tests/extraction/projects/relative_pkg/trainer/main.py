from . import consts
from .defaults import default_argument_parser

parser = default_argument_parser()
parser.add_argument("--max-iter", type=int, default=consts.DEFAULT_SEED * 10)
args = parser.parse_args()
