from app.cli import build

build().parse_args()
