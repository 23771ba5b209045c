"""LayerLoom's command line (DESIGN §4): opens the designer, or runs a headless subcommand."""
from __future__ import annotations

import argparse
import sys

SUBCOMMANDS = ("check", "export", "train")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="layerloom", description="Design, train and export neural networks.")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    check = sub.add_parser("check", help="print each node's output shape and parameter count")
    check.add_argument("file", help="a .loom project")
    export = sub.add_parser("export", help="write the model as code (.py), ONNX (.onnx) or TorchScript (.pt)")
    export.add_argument("file", help="a .loom project")
    export.add_argument("-o", "--output", required=True, metavar="OUT", help="the file to write")
    export.add_argument("--format", choices=("py", "onnx", "pt"), help="the format (default: from OUT's suffix)")
    export.add_argument("--weights", metavar="W", help="trained weights: a state_dict as .safetensors or .pt")
    train = sub.add_parser("train", help="train without a window; writes metrics, weights and model.py")
    train.add_argument("file", help="a .loom project (its data and training sections)")
    train.add_argument("--epochs", type=int, metavar="N", help="epochs to train (default: the file's)")
    train.add_argument("--device", metavar="DEVICE", help="auto, cpu, cuda, cuda:K or mps (default: the file's)")
    train.add_argument("--out", metavar="DIR", help="folder for the results (default: runs/NAME-TIME)")
    train.add_argument("--resume", action="store_true", help="go on from DIR's checkpoint")
    train.add_argument("--overwrite", action="store_true", help="replace a run already in DIR")
    train.add_argument("--quiet", action="store_true", help="no progress bar")
    return parser


def run_command(args: argparse.Namespace) -> int:
    from engine.cli.common import CommandError

    try:
        if args.command == "check":
            from engine.cli import check

            return check.run(args.file)
        if args.command == "export":
            from engine.cli import export

            return export.run(args.file, args.output, args.format, args.weights)
        if args.command == "train":
            from engine.cli import train

            return train.run(args.file, args.epochs, args.device, args.out, args.resume, args.overwrite, args.quiet)
        raise CommandError(f"unknown command {args.command!r}")
    except CommandError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return exc.code
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 1


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] in SUBCOMMANDS or argv[:1] in (["-h"], ["--help"]):
        return run_command(build_parser().parse_args(argv))
    from app.launch import run_designer

    return run_designer(argv[0] if argv else None)


if __name__ == "__main__":
    sys.exit(main())
