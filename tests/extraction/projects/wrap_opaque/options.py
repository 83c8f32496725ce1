import importlib

# Loaded by name: which module is only known at runtime (like an optional library).
_backend = importlib.import_module("deepspeed_like")


def wrap_arg_parser(parser):
    parser.add_argument("--truncate_captions", action="store_true")
    return _backend.add_config_arguments(parser)
