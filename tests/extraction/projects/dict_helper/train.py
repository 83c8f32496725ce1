import argparse

from script_util import add_dict_to_argparser, model_and_diffusion_defaults


def create_argparser():
    defaults = dict(data_dir="", lr=1e-4, batch_size=1, microbatch=-1, use_fp16=False)
    defaults.update(model_and_diffusion_defaults())
    parser = argparse.ArgumentParser()
    add_dict_to_argparser(parser, defaults)
    return parser


def main():
    args = create_argparser().parse_args()


if __name__ == "__main__":
    main()
