"""A released result with what proves it, as one JSON document anyone can check offline.

The document carries the campaign's terms (with every trustee's signed key statement) and
the released result (with the trustees' signatures over it), both as the exact protobuf bytes
the coordinator served. A reader re-derives the campaign digest from the terms, checks each
key statement, and checks that at least t key holders signed these very figures
(fedcarbon.results.signatures_sufficient); with a pinned federation manifest, that every
key holder is one of its trustees. The coordinator cannot forge any of it.
"""

import base64
import json
from dataclasses import dataclass
from typing import TYPE_CHECKING

from fedcarbon import serde
from fedcarbon.campaign import Campaign
from fedcarbon.errors import WireError
from fedcarbon.results import CampaignResult, signatures_sufficient, signing_trustees
from fedcarbon.v1 import campaign_pb2, result_pb2

if TYPE_CHECKING:
    from fedcarbon.federation.manifest import Manifest

EVIDENCE_KIND = "fedcarbon.result-evidence.v1"


@dataclass(frozen=True)
class ResultEvidence:
    campaign: Campaign
    result: CampaignResult

    @property
    def signed_by(self) -> list[str]:
        return signing_trustees(self.result, self.campaign)[0]

    def problems(self, manifest: "Manifest | None" = None) -> list[str]:
        """Why the result must not be trusted (empty: at least t trustees vouch for it).

        With the reader's pinned ``manifest``, every key holder must be one of its trustees:
        signatures by keys the coordinator chose would prove nothing.
        """
        problems = []
        if self.result.campaign_id != self.campaign.campaign_id:
            problems.append("the result is for another campaign than the terms")
        if manifest is not None:
            problems += [
                f"key holder {trustee_id} is not a trustee of manifest {manifest.federation} "
                f"v{manifest.version} ({manifest.fingerprint[:16]})"
                for trustee_id, identity_key in self.campaign.key.holders()
                if manifest.trustee_by_key(identity_key) is None
            ]
        return [*problems, *signatures_sufficient(self.result, self.campaign)]


def to_document(evidence: ResultEvidence) -> dict[str, object]:
    campaign = serde.campaign_to_proto(evidence.campaign).SerializeToString(deterministic=True)
    result = serde.result_to_proto(evidence.result).SerializeToString(deterministic=True)
    return {
        "kind": EVIDENCE_KIND,
        "campaign": base64.b64encode(campaign).decode(),
        "result": base64.b64encode(result).decode(),
    }


def from_document(raw: bytes, *, source: str = "evidence") -> ResultEvidence:
    """Parse and check the terms (digest, key statements); WireError names what is wrong."""
    try:
        document = json.loads(raw)
    except ValueError as error:
        raise WireError(f"{source}: not JSON ({error})") from None
    if not isinstance(document, dict) or document.get("kind") != EVIDENCE_KIND:
        raise WireError(f"{source}: not a fedcarbon result evidence file (kind {EVIDENCE_KIND})")
    campaign_message = campaign_pb2.Campaign()
    result_message = result_pb2.CampaignResult()
    try:
        campaign_message.ParseFromString(base64.b64decode(str(document["campaign"])))
        result_message.ParseFromString(base64.b64decode(str(document["result"])))
    except (KeyError, ValueError) as error:
        raise WireError(f"{source}: campaign or result missing or malformed ({error})") from None
    except Exception:  # protobuf's DecodeError
        raise WireError(f"{source}: campaign or result is not a valid protobuf message") from None
    return ResultEvidence(
        serde.campaign_from_proto(campaign_message), serde.result_from_proto(result_message)
    )
