"""Checkpoints of one input partition's processing state.

A checkpoint is a pickle of the partition's :class:`ProcessorState` together with the offset of
the last input message it covers, the checkpoint format and the River version. River's objects
pickle differently across versions, so a checkpoint from another River version (or format) is
rejected with :class:`CheckpointMismatchError` and the caller starts that partition from empty.
Pickles are trusted input: checkpoints come only from the project's own compacted topic.
"""

from __future__ import annotations

import pickle
import zlib
from dataclasses import dataclass
from importlib.metadata import version

from stream_processors.core import ProcessorState
from stream_processors.exceptions import CheckpointMismatchError

# Raise it whenever the detector plan or the shape of ProcessorState changes: a worker then starts from
# empty state rather than restore detectors and alerts that the current rules would not create.
FORMAT_VERSION = 8
RIVER_VERSION = version("river")


@dataclass
class Checkpoint:
    """One partition's state and the last input offset it includes."""

    partition: int
    offset: int
    state: ProcessorState
    river_version: str = RIVER_VERSION
    format_version: int = FORMAT_VERSION


def dump_checkpoint(checkpoint: Checkpoint) -> bytes:
    """Serialize a checkpoint to compressed bytes."""
    return zlib.compress(pickle.dumps(checkpoint, protocol=pickle.HIGHEST_PROTOCOL), level=1)


def load_checkpoint(data: bytes) -> Checkpoint:
    """Deserialize a checkpoint, rejecting one written by another format or River version."""
    try:
        checkpoint = pickle.loads(zlib.decompress(data))  # noqa: S301 - written by this worker only
    except (zlib.error, pickle.UnpicklingError, EOFError, AttributeError, ImportError) as error:
        raise CheckpointMismatchError(f"unreadable checkpoint: {error}") from None
    if not isinstance(checkpoint, Checkpoint):
        raise CheckpointMismatchError(f"not a checkpoint: {type(checkpoint).__name__}")
    if checkpoint.format_version != FORMAT_VERSION:
        raise CheckpointMismatchError(
            f"checkpoint format {checkpoint.format_version}, this worker reads {FORMAT_VERSION}"
        )
    if checkpoint.river_version != RIVER_VERSION:
        raise CheckpointMismatchError(
            f"checkpoint written with River {checkpoint.river_version}, this worker runs {RIVER_VERSION}"
        )
    return checkpoint


# Sharding: a partition's state is written as one message per controller (and one per farm for
# farm-wide state), so no single message grows with the number of houses on the partition. Shards
# go to one of two slots, alternately, and a manifest naming the slot is written last, so a crash
# between writes leaves the previous checkpoint whole.


@dataclass
class Manifest:
    """The latest complete checkpoint of one input partition."""

    partition: int
    offset: int
    slot: int
    shard_keys: list[str]
    output_offsets: dict[str, dict[int, int]]
    river_version: str = RIVER_VERSION
    format_version: int = FORMAT_VERSION


def manifest_key(partition: int) -> str:
    """Return the message key of a partition's manifest on the checkpoint topic."""
    return f"{partition}/manifest"


def shard_key(partition: int, slot: int, shard: str) -> str:
    """Return the message key of one shard of a partition's state in a slot."""
    return f"{partition}/{slot}/{shard}"


def split_state(state: ProcessorState) -> dict[str, ProcessorState]:
    """Split a partition's state into shards: one per controller and one per farm."""
    shards: dict[str, ProcessorState] = {}

    def shard_for(farm_id: str, house: int | None) -> ProcessorState:
        name = f"{farm_id}/{'-' if house is None else house}"
        return shards.setdefault(name, ProcessorState())

    for key, sensor in state.sensors.items():
        shard_for(key[0], key[1]).sensors[key] = sensor
    for controller_key, controller in state.controllers.items():
        shard_for(*controller_key).controllers[controller_key] = controller
    for farm_id, farm in state.farms.items():
        shard_for(farm_id, None).farms[farm_id] = farm
    for alert_key, machine in state.machines.items():
        shard_for(alert_key.farm_id, alert_key.house_number).machines[alert_key] = machine
    return shards


def merge_states(shards: list[ProcessorState]) -> ProcessorState:
    """Merge shards back into one partition state."""
    merged = ProcessorState()
    for shard in shards:
        merged.sensors.update(shard.sensors)
        merged.controllers.update(shard.controllers)
        merged.farms.update(shard.farms)
        merged.machines.update(shard.machines)
    return merged


def encode_checkpoint(
    partition: int,
    offset: int,
    state: ProcessorState,
    previous_slot: int | None,
    output_offsets: dict[str, dict[int, int]],
) -> tuple[Manifest, list[tuple[str, bytes]]]:
    """Return the manifest and the messages (key, value) of a checkpoint, the manifest last."""
    slot = 1 if previous_slot == 0 else 0
    messages = []
    names = []
    for name, shard in sorted(split_state(state).items()):
        key = shard_key(partition, slot, name)
        names.append(key)
        messages.append((key, _dump(shard)))
    manifest = Manifest(partition, offset, slot, names, output_offsets)
    messages.append((manifest_key(partition), _dump(manifest)))
    return manifest, messages


def decode_checkpoint(partition: int, messages: dict[str, bytes]) -> tuple[Manifest, ProcessorState] | None:
    """Rebuild a partition's state from the latest checkpoint messages, or None if there is none.

    Raises :class:`CheckpointMismatchError` when the checkpoint was written by another format or
    River version, or a shard it names is missing.
    """
    raw_manifest = messages.get(manifest_key(partition))
    if raw_manifest is None:
        return None
    manifest = _load(raw_manifest)
    if not isinstance(manifest, Manifest):
        raise CheckpointMismatchError(f"partition {partition} manifest is a {type(manifest).__name__}")
    if manifest.format_version != FORMAT_VERSION or manifest.river_version != RIVER_VERSION:
        raise CheckpointMismatchError(
            f"partition {partition} checkpoint has format {manifest.format_version} and River "
            f"{manifest.river_version}; this worker needs format {FORMAT_VERSION} and River {RIVER_VERSION}"
        )
    shards = []
    for key in manifest.shard_keys:
        if key not in messages:
            raise CheckpointMismatchError(f"partition {partition} checkpoint shard {key} is missing")
        shard = _load(messages[key])
        if not isinstance(shard, ProcessorState):
            raise CheckpointMismatchError(f"checkpoint shard {key} is a {type(shard).__name__}")
        shards.append(shard)
    return manifest, merge_states(shards)


def _dump(value: object) -> bytes:
    return zlib.compress(pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL), level=1)


def _load(data: bytes) -> object:
    try:
        return pickle.loads(zlib.decompress(data))  # noqa: S301 - written by this worker only
    except (zlib.error, pickle.UnpicklingError, EOFError, AttributeError, ImportError) as error:
        raise CheckpointMismatchError(f"unreadable checkpoint message: {error}") from None
