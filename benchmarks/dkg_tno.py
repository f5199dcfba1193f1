"""Time TNO's distributed Paillier key generation (3 parties, loopback HTTP) at a key length.

Not run by ``make bench``: the package is not a fedcarbon dependency (docs/threshold.md says
why). In a separate virtual environment::

    python3 -m venv /tmp/tno
    /tmp/tno/bin/pip install 'tno.mpc.protocols.distributed_keygen[gmpy]' \
        'tno.mpc.communication~=4.8' 'tno.mpc.encryption_schemes.utils<0.16'
    /tmp/tno/bin/python benchmarks/dkg_tno.py 512
"""

import asyncio
import sys
import time

from tno.mpc.communication import Pool  # type: ignore[import-not-found]
from tno.mpc.protocols.distributed_keygen import (  # type: ignore[import-not-found]
    DistributedPaillier,
)


async def main(bits: int, parties: int = 3) -> None:
    base = 18000 + bits % 1000
    pools = []
    for i in range(parties):
        pool = Pool()
        pool.add_http_server(port=base + i)
        for j in range(parties):
            if j != i:
                pool.add_http_client(f"party_{j}", "127.0.0.1", port=base + j)
        pools.append(pool)
    await asyncio.sleep(2)
    started = time.perf_counter()
    await asyncio.gather(
        *[
            DistributedPaillier.from_security_parameter(
                pool, 1, bits, 2000, 40, 40, distributed=False, precision=8, batch_size=100
            )
            for pool in pools
        ]
    )
    print(
        f"{bits}-bit, {parties} parties, corruption threshold 1: "
        f"{time.perf_counter() - started:.1f} s",
        flush=True,
    )
    for p in pools:
        await p.shutdown()


asyncio.run(main(int(sys.argv[1])))
