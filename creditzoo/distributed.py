"""Multi-process training: strategies, torchrun launch, FSDP2 sharding, cross-rank gathers.

Runs are launched by ``torchrun`` (never by Lightning or Hydra re-spawning the script):
``torchrun --nproc-per-node=N -m creditzoo fit trainer=ddp …``. Each rank runs the whole
``fit``; Lightning reads the rank layout from torchrun's environment (RANK, WORLD_SIZE,
LOCAL_WORLD_SIZE, MASTER_ADDR/PORT).
"""

from __future__ import annotations

import os
from typing import Any

import torch
import torch.distributed as dist

STRATEGIES = ("auto", "ddp", "fsdp")


def launched_world_size() -> int:
    """Processes started by torchrun (1 when run directly)."""
    return int(os.environ.get("WORLD_SIZE", "1"))


def is_launch_rank_zero() -> bool:
    """Rank 0 of a torchrun launch, usable before the process group exists."""
    return int(os.environ.get("RANK", "0")) == 0


def trainer_kwargs(trainer_cfg: dict[str, Any]) -> dict[str, Any]:
    """Turn the ``trainer`` config group into ``lightning.Trainer`` arguments.

    ``strategy: ddp`` → DDPStrategy (gloo on CPU, NCCL on GPU); ``strategy: fsdp`` → FSDP2
    ``fully_shard`` through ModelParallelStrategy (Lightning's FSDPStrategy refuses CPU).
    ``devices``/``num_nodes: auto`` take the layout torchrun started; a direct launch asking for
    several devices is refused, because Lightning would re-run the command line once per device.
    """
    cfg = dict(trainer_cfg)
    strategy = cfg.pop("strategy", "auto")
    if strategy not in STRATEGIES:
        raise ValueError(
            f"unknown trainer.strategy {strategy!r}; known: {', '.join(STRATEGIES)} "
            "(trainer=ddp or trainer=fsdp select the multi-process ones)"
        )
    world = launched_world_size()
    local = int(os.environ.get("LOCAL_WORLD_SIZE", str(world)))
    if cfg.get("devices", 1) == "auto":
        cfg["devices"] = local
    if cfg.get("num_nodes", 1) == "auto":
        cfg["num_nodes"] = max(world // max(local, 1), 1)
    requested = int(cfg["devices"]) * int(cfg.get("num_nodes", 1))
    if requested > 1 and world == 1:
        raise ValueError(
            f"trainer asks for {requested} processes but the run was not started by torchrun; "
            f"launch it as `torchrun --nproc-per-node={cfg['devices']} -m creditzoo fit …` "
            "(see README, 'Several processes and nodes')"
        )
    if world > 1 and requested != world:
        raise ValueError(
            f"torchrun started {world} processes but trainer.devices × trainer.num_nodes = "
            f"{requested}; use trainer.devices=auto trainer.num_nodes=auto (the trainer=ddp / "
            "trainer=fsdp defaults)"
        )
    if strategy == "ddp":
        from lightning.pytorch.strategies import DDPStrategy

        cfg["strategy"] = DDPStrategy(process_group_backend=_backend(cfg))
    elif strategy == "fsdp":
        from lightning.pytorch.strategies import ModelParallelStrategy

        # One file per checkpoint (full state dict gathered on rank 0), like the other strategies,
        # so `creditzoo eval ckpt=…` and resuming with a different process count both work.
        cfg["strategy"] = ModelParallelStrategy(
            data_parallel_size=requested, tensor_parallel_size=1, save_distributed_checkpoint=False
        )
    else:
        cfg["strategy"] = "auto"
    return cfg


def _backend(cfg: dict[str, Any]) -> str:
    accelerator = cfg.get("accelerator", "auto")
    gpu = accelerator in ("gpu", "cuda") or (accelerator == "auto" and torch.cuda.is_available())
    return "nccl" if gpu else "gloo"


def shard_fsdp2(model: torch.nn.Module, mesh: Any) -> torch.nn.Module:
    """FSDP2: ``fully_shard`` every decoder block, then the root (embeddings, head, norm).

    Blocks are found through the HF ``_no_split_modules`` names, so any transformers causal LM
    works; parameters become DTensors sharded over ``mesh``'s data-parallel dimension.
    """
    from torch.distributed.fsdp import fully_shard

    block_names = set(getattr(model, "_no_split_modules", None) or [])
    blocks = [m for m in model.modules() if type(m).__name__ in block_names]
    if not blocks:
        raise ValueError(
            f"trainer=fsdp cannot find the decoder blocks of {type(model).__name__} (its "
            "_no_split_modules is empty); use trainer=ddp for this model"
        )
    dp_mesh = mesh["data_parallel"] if mesh is not None and mesh.ndim > 1 else mesh
    for block in blocks:
        fully_shard(block, mesh=dp_mesh)
    fully_shard(model, mesh=dp_mesh)
    return model


def is_sharded(model: torch.nn.Module) -> bool:
    from torch.distributed.tensor import DTensor

    return any(isinstance(p, DTensor) for p in model.parameters())


def full_tensor(t: torch.Tensor) -> torch.Tensor:
    """The whole tensor of a (possibly FSDP-sharded) parameter; a collective when sharded."""
    from torch.distributed.tensor import DTensor

    return t.full_tensor() if isinstance(t, DTensor) else t


def full_state_dict(model: torch.nn.Module) -> dict[str, torch.Tensor]:
    """Unsharded state dict on every rank (a plain ``state_dict()`` when not sharded)."""
    if not is_sharded(model):
        return model.state_dict()
    from torch.distributed.checkpoint.state_dict import StateDictOptions, get_model_state_dict

    return get_model_state_dict(model, options=StateDictOptions(full_state_dict=True))


def world() -> tuple[int, int]:
    """(rank, world size) of the initialised process group, (0, 1) without one."""
    if dist.is_available() and dist.is_initialized():
        return dist.get_rank(), dist.get_world_size()
    return 0, 1


def global_max(value: int) -> int:
    """The largest ``value`` over ranks (``value`` itself without a process group)."""
    _, size = world()
    if size == 1:
        return value
    t = torch.tensor([value], dtype=torch.long)
    dist.all_reduce(t, op=dist.ReduceOp.MAX)
    return int(t)


def all_gather_objects(obj: Any) -> list[Any]:
    """Every rank's ``obj``, in rank order (``[obj]`` without a process group)."""
    _, size = world()
    if size == 1:
        return [obj]
    out: list[Any] = [None] * size
    dist.all_gather_object(out, obj)
    return out


__all__ = [
    "STRATEGIES",
    "all_gather_objects",
    "full_state_dict",
    "full_tensor",
    "global_max",
    "is_launch_rank_zero",
    "is_sharded",
    "launched_world_size",
    "shard_fsdp2",
    "trainer_kwargs",
    "world",
]
