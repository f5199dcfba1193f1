"""Who a federation is: its signed manifest (trustees, registrars) and attested members.

The operator is not trusted for who takes part (privacy model point 7). The manifest is
signed by every trustee and pinned by each agent out of band; attestations by manifest
trustees or registrars say which participant ids belong to which legal entity.
"""
