"""`studio export-onnx`: write a recognizer as an ONNX graph (and check it against torch)."""

from __future__ import annotations

NAME = "export-onnx"
HELP = "export a recognizer to ONNX (input silhouettes [n, s, 64, 44], output embeddings [n, c, p])"


def add_arguments(parser):
    parser.add_argument("--weights", default="gaitbase-walkers", help="weights folder or bundled name")
    parser.add_argument("--out", required=True, help="the .onnx file to write")
    parser.add_argument("--frames", type=int, default=30, help="frames of the example clip used for tracing")
    parser.add_argument("--no-check", action="store_true", help="skip comparing onnxruntime with torch")


def run(args) -> int:
    import numpy as np
    import torch

    from gaitdata.sequence import CANONICAL_HEIGHT, CANONICAL_WIDTH
    from recognizers import load_recognizer
    from recognizers.export import export_onnx

    model = load_recognizer(args.weights)
    export_onnx(model, args.out, frames=args.frames)
    print(f"wrote {args.out}")
    if args.no_check:
        return 0
    import onnxruntime

    x = np.random.default_rng(0).random((2, args.frames + 7, CANONICAL_HEIGHT, CANONICAL_WIDTH), dtype=np.float32)
    session = onnxruntime.InferenceSession(args.out, providers=["CPUExecutionProvider"])
    (onnx_out,) = session.run(None, {"silhouettes": x})
    with torch.no_grad():
        torch_out = model(torch.from_numpy(x)).embeddings.numpy()
    err = float(np.abs(onnx_out - torch_out).max())
    print(f"onnxruntime vs torch: max abs difference {err:.2e} on a {x.shape} batch")
    return 0 if err < 1e-3 else 1
