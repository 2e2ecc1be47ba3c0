"""`--shard I/N` (services.Shard, services.Target): what the option accepts, and how ids are partitioned.

A shard is the I-th of N partitions of the domains by a hash of their id (blake2b), so N hosts that each take one
cover every domain once, without talking to each other: the partition must be a function of the id alone
(the same on every run and machine), total and disjoint, and roughly balanced.
"""

from __future__ import annotations

import random
from collections import Counter

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from stackshift_cli.errors import ExitCode, UsageError
from stackshift_cli.services import Shard, Target

DOMAIN_IDS = st.text(alphabet="0123456789abcdef", min_size=16, max_size=16).map(lambda h: "dom_" + h)


# ---------------------------------------------------------------- what --shard accepts


@pytest.mark.parametrize(("text", "index", "count"), [
    ("0/1", 0, 1),
    ("3/4", 3, 4),
    (" 2/8 ", 2, 8),  # surrounding space, as a shell variable may carry
    ("0/1000000", 0, 1_000_000),  # the largest N
    ("999999/1000000", 999_999, 1_000_000),
])
def test_shard_parse_accepts_i_of_n_with_i_below_n(text, index, count):
    assert Shard.parse(text) == Shard(index, count)


@pytest.mark.parametrize("text", [
    pytest.param("4/4", id="i-equal-to-n"),
    pytest.param("5/4", id="i-above-n"),
    pytest.param("-1/4", id="negative-i"),
    pytest.param("1/-4", id="negative-n"),
    pytest.param("+1/4", id="signed-i"),
    pytest.param("1/0", id="n-zero"),
    pytest.param("0/0", id="zero-of-zero"),
    pytest.param("a/b", id="letters"),
    pytest.param("1", id="no-slash"),
    pytest.param("1/", id="no-n"),
    pytest.param("/4", id="no-i"),
    pytest.param("", id="empty"),
    pytest.param("1/2/3", id="two-slashes"),
    pytest.param("1 /4", id="space-inside"),
    pytest.param("0x1/4", id="hexadecimal"),
    pytest.param("1.0/4", id="decimal-point"),
    pytest.param("\uff11/2", id="fullwidth-digit"),
    pytest.param("\u0661/2", id="arabic-indic-digit"),
    pytest.param("\u00b2/4", id="superscript-digit"),
    pytest.param("0/1000001", id="n-above-one-million"),
    pytest.param("0/99999999999999999999", id="n-far-above-one-million"),
])
def test_shard_parse_refuses_anything_but_two_ascii_whole_numbers_with_i_below_n_up_to_one_million(text):
    with pytest.raises(UsageError) as raised:
        Shard.parse(text)
    assert raised.value.exit_code == ExitCode.USAGE
    assert "--shard" in raised.value.message and "\n" not in raised.value.message


@pytest.mark.parametrize("text", [
    pytest.param("0/" + "9" * 5000, id="n-of-5000-digits"),
    pytest.param("1" + "0" * 4999 + "/4", id="i-of-5000-digits"),
])
def test_shard_parse_refuses_a_number_too_long_for_int_as_a_usage_error(text):
    """Python refuses int() of more than 4300 digits with a ValueError (sys.int_info.default_max_str_digits):
    such a --shard is a usage error like any other, not an internal error."""
    with pytest.raises(UsageError):
        Shard.parse(text)


def test_target_refuses_a_shard_without_every_domain():
    with pytest.raises(UsageError) as raised:
        Target("example.com", shard=Shard(0, 2))
    assert raised.value.exit_code == ExitCode.USAGE and "--all" in raised.value.message
    assert Target(every=True, shard=Shard(0, 2)).shard == Shard(0, 2)


# ---------------------------------------------------------------- how ids are partitioned


@settings(max_examples=300)
@given(domain_id=DOMAIN_IDS)
def test_shard_holds_is_a_function_of_the_id_alone(domain_id):
    first = [Shard(i, 7).holds(domain_id) for i in range(7)]
    assert [Shard(i, 7).holds(domain_id) for i in range(7)] == first
    assert [Shard.parse(f"{i}/7").holds(domain_id) for i in range(7)] == first  # a fresh Shard agrees


@settings(max_examples=300)
@given(domain_id=DOMAIN_IDS, count=st.integers(min_value=1, max_value=64))
def test_every_id_falls_in_exactly_one_of_n_shards(domain_id, count):
    assert sum(Shard(i, count).holds(domain_id) for i in range(count)) == 1


def test_one_shard_of_one_holds_every_id():
    rng = random.Random(1)
    ids = [f"dom_{rng.getrandbits(64):016x}" for _ in range(200)]
    assert all(Shard(0, 1).holds(i) for i in ids)


@pytest.mark.parametrize(("domain_id", "of_4", "of_1000"), [
    ("dom_0000000000000000", 0, 572),
    ("dom_0123456789abcdef", 1, 161),
    ("dom_ffffffffffffffff", 0, 704),
    ("dom_5f3a9c0e71b24d68", 0, 516),
])
def test_shard_membership_is_pinned_so_hosts_on_different_releases_agree(domain_id, of_4, of_1000):
    """blake2b (8-byte digest) of the id's UTF-8, big-endian, modulo N: pinned here, since a change of hash would
    move every domain to another shard while hosts of two releases share the work."""
    assert [Shard(i, 4).holds(domain_id) for i in range(4)] == [i == of_4 for i in range(4)]
    assert Shard(of_1000, 1000).holds(domain_id)


def test_the_partition_of_ten_thousand_ids_into_four_shards_is_roughly_balanced():
    rng = random.Random(20261129)
    ids = {f"dom_{rng.getrandbits(64):016x}" for _ in range(10_000)}
    sizes = Counter(next(i for i in range(4) if Shard(i, 4).holds(d)) for d in ids)
    assert sum(sizes.values()) == len(ids)
    for shard in range(4):
        assert 0.20 * len(ids) <= sizes[shard] <= 0.30 * len(ids), sizes
