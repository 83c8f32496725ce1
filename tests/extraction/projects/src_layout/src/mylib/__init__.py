from .args import add_data_args, add_model_args

__all__ = ["add_model_args", "add_data_args"]
