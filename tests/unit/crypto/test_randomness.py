"""The in-memory pool of precomputed DJN masks (fedcarbon.crypto.randomness)."""

import multiprocessing
import threading
import time

import pytest
from phe import paillier

from fedcarbon.crypto.errors import EncodingError
from fedcarbon.crypto.randomness import RandomnessPool
from fedcarbon.crypto.shortexp import EXPONENT_BITS, ShortExponentKey, encrypt_with_mask, make_hs

PUBLIC, PRIVATE = paillier.generate_paillier_keypair(n_length=512)
N = int(PUBLIC.n)
KEY = ShortExponentKey(N, make_hs(PRIVATE))


def test_pairs_are_exponent_and_hs_power() -> None:
    with RandomnessPool(KEY, capacity=8) as pool:
        assert pool.fill() == 8
        assert len(pool) == 8
        for _ in range(8):
            exponent, mask = pool.take()
            assert 0 <= exponent < 1 << EXPONENT_BITS
            assert mask == pow(KEY.hs, exponent, N * N)


def test_take_on_an_empty_pool_computes_a_fresh_pair() -> None:
    with RandomnessPool(KEY, capacity=2) as pool:
        exponent, mask = pool.take()
        assert mask == pow(KEY.hs, exponent, N * N)
        assert len(pool) == 0


def test_pooled_encryption_decrypts_with_phe() -> None:
    with RandomnessPool(KEY, capacity=4) as pool:
        pool.fill()
        _, mask = pool.take()
        assert PRIVATE.raw_decrypt(encrypt_with_mask(KEY, 31337, mask)) == 31337


def test_concurrent_takes_never_share_a_pair() -> None:
    taken: list[tuple[int, int]] = []
    lock = threading.Lock()
    with RandomnessPool(KEY, capacity=64) as pool:
        pool.fill()

        def worker() -> None:
            for _ in range(16):
                pair = pool.take()
                with lock:
                    taken.append(pair)

        threads = [threading.Thread(target=worker) for _ in range(6)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert len(taken) == 96
    assert len({exponent for exponent, _ in taken}) == 96


def test_background_filler_refills_after_takes() -> None:
    with RandomnessPool(KEY, capacity=5) as pool:
        pool.start()
        deadline = time.monotonic() + 30
        while len(pool) < 5 and time.monotonic() < deadline:
            time.sleep(0.01)
        assert len(pool) == 5
        first = [pool.take() for _ in range(3)]
        while len(pool) < 5 and time.monotonic() < deadline:
            time.sleep(0.01)
        assert len(pool) == 5
        rest = [pool.take() for _ in range(5)]
    assert len({e for e, _ in first + rest}) == 8


def test_close_forgets_pairs_and_refuses_further_takes() -> None:
    pool = RandomnessPool(KEY, capacity=3)
    pool.fill()
    pool.start()
    pool.close()
    assert len(pool) == 0
    assert pool._thread is not None and not pool._thread.is_alive()
    with pytest.raises(EncodingError, match="closed"):
        pool.take()
    with pytest.raises(EncodingError, match="closed"):
        pool.start()


@pytest.mark.parametrize(("bits", "capacity"), [(0, 1), (448, 0)])
def test_bad_parameters_are_refused(bits: int, capacity: int) -> None:
    with pytest.raises(EncodingError):
        RandomnessPool(KEY, bits, capacity)


def test_a_forked_child_starts_with_an_empty_pool() -> None:
    with RandomnessPool(KEY, capacity=4) as pool:
        pool.fill()
        context = multiprocessing.get_context("fork")
        queue = context.Queue()
        child = context.Process(target=lambda: queue.put(len(pool)))
        child.start()
        child.join(30)
        assert queue.get(timeout=5) == 0
        assert len(pool) == 4
