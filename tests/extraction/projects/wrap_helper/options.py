def wrap_arg_parser(parser):
    parser.add_argument("--vae_path", type=str, help="path to your trained discrete VAE")
    parser.add_argument("--image_text_folder", type=str, required=True)
    parser.add_argument("--truncate_captions", dest="truncate_captions", action="store_true")
    return parser
