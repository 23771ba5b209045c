"""LayerLoom's command line (DESIGN §4): opens the designer, or runs a headless subcommand."""
from __future__ import annotations

import argparse
import difflib
import sys
from pathlib import Path

SUBCOMMANDS = ("check", "export", "train", "import", "predict", "tune")


def version() -> str:
    """The installed package's version, or pyproject.toml's when run from a clone not installed."""
    from importlib import metadata

    try:
        return metadata.version("layerloom")
    except metadata.PackageNotFoundError:
        import tomllib

        with open(Path(__file__).resolve().parent / "pyproject.toml", "rb") as file:
            return tomllib.load(file)["project"]["version"]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="layerloom", description="Design, train and export neural networks. With no command, or with a "
        ".loom file, opens the designer.", usage="%(prog)s [FILE.loom] | %(prog)s COMMAND ... | %(prog)s --version")
    parser.add_argument("--version", action="store_true", help="print the version and exit")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    check = sub.add_parser("check", help="print each node's output shape and parameter count")
    check.add_argument("file", help="a .loom project")
    check.add_argument("--expand", action="store_true", help="also list the layers inside each block node")
    export = sub.add_parser("export", help="write the model as code (.py), ONNX (.onnx), TorchScript (.pt) or a "
                            "torch.export program (.pt2)")
    export.add_argument("file", help="a .loom project")
    export.add_argument("-o", "--output", required=True, metavar="OUT", help="the file to write")
    export.add_argument("--format", choices=("py", "onnx", "pt", "pt2"), help="the format (default: from OUT's suffix)")
    export.add_argument("--weights", metavar="W", help="trained weights: a state_dict as .safetensors or .pt")
    export.add_argument("--training-script", action="store_true", help="write a standalone training program "
                        "(OUT.py, with train.npz beside it) instead of the model")
    train = sub.add_parser("train", help="train without a window; writes metrics, weights and model.py")
    train.add_argument("file", help="a .loom project (its data and training sections)")
    train.add_argument("--epochs", type=int, metavar="N", help="epochs to train (default: the file's)")
    train.add_argument("--device", metavar="DEVICE", help="auto, cpu, cuda, cuda:K or mps (default: the file's)")
    train.add_argument("--out", metavar="DIR", help="folder for the results (default: runs/NAME-TIME)")
    train.add_argument("--resume", action="store_true", help="go on from DIR's checkpoint")
    train.add_argument("--overwrite", action="store_true", help="replace a run already in DIR")
    train.add_argument("--quiet", action="store_true", help="no progress bar")
    train.add_argument("--nproc", type=int, metavar="N", help="train on N processes with torch.distributed "
                       "(one GPU each on CUDA)")
    imp = sub.add_parser("import", help="an existing PyTorch model (FILE.py:NAME) as an editable design")
    imp.add_argument("source", help="FILE.py:NAME: an nn.Module class built with no arguments, or a function "
                     "returning a module")
    imp.add_argument("-o", "--output", required=True, metavar="OUT.loom", help="the design to write")
    imp.add_argument("--weights", metavar="W", help="a state_dict (.safetensors, or .pt) loaded into the module first")
    imp.add_argument("--input-shape", action="append", metavar="S", dest="input_shapes",
                     help="one per forward argument, batch left out: 3,224,224 (16:int64 for token ids)")
    predict = sub.add_parser("predict", help="the trained model on one sample: probabilities, MC-dropout spread, trace")
    predict.add_argument("file", help="a .loom project")
    predict.add_argument("--run", metavar="DIR", help="the run folder whose weights to use (default: random weights)")
    which = predict.add_mutually_exclusive_group()
    which.add_argument("--sample", type=int, metavar="K", help="validation sample K, counted from 0 (default 0)")
    which.add_argument("--input", metavar="PATH", help="one sample: a .npy array, an image, or one CSV row")
    which.add_argument("--generate", type=int, metavar="N", help="a text model: print --prompt and N generated "
                       "characters")
    predict.add_argument("--prompt", default="", metavar="TEXT", help="the text --generate continues")
    predict.add_argument("--temperature", type=float, default=1.0, metavar="T", help="--generate: below 1 safer, "
                         "above 1 wilder (default 1)")
    predict.add_argument("--top-k", type=int, metavar="K", help="--generate: draw among the K likeliest (1: greedy)")
    predict.add_argument("--seed", type=int, default=0, metavar="S", help="--generate: the draws' seed (default 0)")
    predict.add_argument("--mc-samples", type=int, metavar="N", help="N passes with dropout active: mean, spread, "
                         "entropy, mutual information")
    predict.add_argument("--trace", action="store_true", help="every node's output on the way, and attention")
    predict.add_argument("--json", action="store_true", help="print one JSON object (docs/predict.md)")
    tune = sub.add_parser("tune", help="search the file's search section with Optuna (docs/search.md)")
    tune.add_argument("file", help="a .loom project with a search section")
    tune.add_argument("--trials", type=int, required=True, metavar="N", help="trials this command runs")
    tune.add_argument("--jobs", type=int, default=1, metavar="K", help="trials at a time, in K processes")
    tune.add_argument("--timeout", type=float, metavar="S", help="start no new trial after S seconds")
    tune.add_argument("--storage", metavar="URL", help="an Optuna storage URL (default: an SQLite file beside FILE)")
    tune.add_argument("--study", metavar="NAME", help="the study to make or join (default: from the project name)")
    tune.add_argument("-o", "--output", metavar="BEST.loom", help="where to write the best design "
                      "(default: runs/STUDY/best.loom)")
    return parser


def run_command(args: argparse.Namespace) -> int:
    if args.version:
        print(f"layerloom {version()}")
        return 0
    if args.command is None:
        return usage_error(build_parser(), "give a command, or a .loom file to open")
    from engine.cli.common import CommandError

    try:
        if args.command == "check":
            from engine.cli import check

            return check.run(args.file, expand=args.expand)
        if args.command == "export":
            from engine.cli import export

            return export.run(args.file, args.output, args.format, args.weights, args.training_script)
        if args.command == "train":
            from engine.cli import train

            return train.run(args.file, args.epochs, args.device, args.out, args.resume, args.overwrite, args.quiet,
                             args.nproc)
        if args.command == "import":
            from engine.cli import import_

            return import_.run(args.source, args.output, args.weights, args.input_shapes)
        if args.command == "predict":
            from engine.cli import predict

            if args.generate is not None:
                from engine.cli import generate

                return generate.run(args.file, args.run, args.generate, args.prompt, args.temperature, args.top_k,
                                    args.seed)
            return predict.run(args.file, args.run, args.sample, args.input, args.mc_samples, args.trace, args.json)
        if args.command == "tune":
            from engine.cli import tune

            return tune.run(args.file, args.trials, args.jobs, args.timeout, args.storage, args.study, args.output)
        raise CommandError(f"unknown command {args.command!r}")
    except CommandError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return exc.code
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 1


def usage_error(parser: argparse.ArgumentParser, message: str) -> int:
    """argparse's way of saying a command line is wrong (usage, then the error; exit 2), returned
    rather than raised."""
    parser.print_usage(sys.stderr)
    print(f"{parser.prog}: error: {message}", file=sys.stderr)
    return 2


def file_to_open(parser: argparse.ArgumentParser, argv: list[str]) -> tuple[str | None, int]:
    """(FILE, 0) when `python main.py FILE` names a design to open, else (None, exit code) after
    saying why: a mistyped command is never opened as a file, nor a file that is not there."""
    first = argv[0]
    path = Path(first)
    if path.is_file():
        if len(argv) > 1:
            return None, usage_error(parser, f"the designer opens one file; unexpected: {' '.join(argv[1:])}")
        return first, 0
    if path.is_dir():
        return None, usage_error(parser, f"{first} is a folder, not a .loom file")
    if path.suffix or len(path.parts) > 1:
        return None, usage_error(parser, f"no such file: {first}")
    nearest = difflib.get_close_matches(first, SUBCOMMANDS, n=1)
    hint = f"; did you mean {nearest[0]!r}?" if nearest else f" (commands: {', '.join(SUBCOMMANDS)})"
    return None, usage_error(parser, f"{first!r} is neither a command nor a file{hint}")


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    parser = build_parser()
    if argv and (argv[0] in SUBCOMMANDS or argv[0].startswith("-")):
        return run_command(parser.parse_args(argv))
    path = None
    if argv:
        path, code = file_to_open(parser, argv)
        if path is None:
            return code
    from app.preflight import window_problem

    problem = window_problem()  # before Qt, whose answer to a missing display or library is abort()
    if problem is not None:
        print(problem, file=sys.stderr)
        return 1
    from app.launch import run_designer

    return run_designer(path)


if __name__ == "__main__":
    sys.exit(main())
