"""A Python process: the size and digest of the uploaded file."""
import hashlib
import json
import os

from pixyz_worker.script import *


@pixyz_schedule(queue="cpu")
def main(pc: ProgramContext, params: dict):
    """The size and digest of the uploaded file, as it was sent (an archive is not unpacked first).

    params: { "algorithm": "sha256" }  any name Python's hashlib knows: sha256, sha1, md5, blake2b…
    result: { "name": ..., "bytes": ..., "algorithm": ..., "digest": ... }, also written to checksum.json
    """
    algorithm = (params or {}).get("algorithm", "sha256")
    if algorithm not in hashlib.algorithms_available:
        raise ValueError(f"unknown algorithm {algorithm!r}: use one of {', '.join(sorted(hashlib.algorithms_guaranteed))}")
    source = pc["data"]
    if not source:
        raise ValueError("send the file to check as 'file'")
    pc.progress_set_total(1)
    pc.progress_next(f"Reading {os.path.basename(source)}")
    digest = hashlib.new(algorithm)
    with open(source, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    result = {"name": os.path.basename(source), "bytes": os.path.getsize(source), "algorithm": algorithm, "digest": digest.hexdigest()}
    if not pc.is_compute_only():
        with open(pc.get_output_dir("checksum.json"), "w") as f:
            json.dump(result, f, indent=2)
    return result


if __name__ == "__main__":
    LocalPixyzTask.from_commandline(__file__, os.getcwd(), "main")
