"""The audit log: every state change is recorded here, hash-chained so tampering shows.

hash_n = sha256(prev_hash || canonical JSON of the event). `verify_chain` recomputes it.
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from typing import Any

from django.db import models, transaction
from django.utils import timezone

from opencall.core.models import AuditEvent, AuditHead


def _digest(prev_hash: str, payload: dict[str, Any]) -> str:
    body = json.dumps(payload, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256((prev_hash + body).encode()).hexdigest()


def _payload(seq: int, actor_id: int | None, verb: str, object_type: str, object_id: str,
             data: dict[str, Any], created_at: datetime) -> dict[str, Any]:
    return {
        "seq": seq,
        "actor": actor_id,
        "verb": verb,
        "object_type": object_type,
        "object_id": object_id,
        "data": data,
        "at": created_at.isoformat(),
    }


def record(*, actor: Any, verb: str, obj: models.Model | None = None,
           object_type: str = "", object_id: str = "", data: dict[str, Any] | None = None) -> AuditEvent:
    """Append one event to the chain inside the caller's transaction."""
    if obj is not None:
        object_type = object_type or obj._meta.label_lower
        object_id = object_id or str(obj.pk)
    actor_id = actor.pk if actor is not None and getattr(actor, "is_authenticated", False) else None
    clean = json.loads(json.dumps(data or {}, default=str))
    with transaction.atomic():
        head, _ = AuditHead.objects.select_for_update().get_or_create(id=1)
        seq = head.count + 1
        now = timezone.now()
        digest = _digest(head.last_hash, _payload(seq, actor_id, verb, object_type, object_id, clean, now))
        event = AuditEvent.objects.create(
            seq=seq, actor_id=actor_id, verb=verb, object_type=object_type, object_id=object_id,
            data=clean, created_at=now, prev_hash=head.last_hash, hash=digest,
        )
        head.last_hash = digest
        head.count = seq
        head.save(update_fields=["last_hash", "count"])
    return event


def verify_chain() -> tuple[bool, int, int | None]:
    """Recompute every hash. Returns (ok, events checked, seq of the first broken event)."""
    prev = "0" * 64
    checked = 0
    for event in AuditEvent.objects.order_by("seq").iterator(chunk_size=2000):
        payload = _payload(event.seq, event.actor_id, event.verb, event.object_type,
                           event.object_id, event.data, event.created_at)
        if event.prev_hash != prev or _digest(prev, payload) != event.hash:
            return False, checked, event.seq
        prev = event.hash
        checked += 1
    return True, checked, None
