"""Where an agent or trustee gossips: its own config first, then the pinned manifest."""


def test_gossip_endpoints_come_from_the_config_then_the_pinned_manifest() -> None:
    from agent.gossip import endpoints
    from fedcarbon.federation.manifest import Manifest, ManifestTrustee

    def trustee(name: str, gossip: str) -> ManifestTrustee:
        return ManifestTrustee(name, name, f"LEI:{name}", name.encode() * 8, b"\x01" * 32, gossip)

    manifest = Manifest("f", 1, (trustee("a", "a.example:7443"), trustee("b", "")))
    assert endpoints(["local:1"], None) == ["local:1"]
    assert endpoints(["local:1", "a.example:7443"], manifest) == ["local:1", "a.example:7443"]
    assert endpoints([], manifest) == ["a.example:7443"]
