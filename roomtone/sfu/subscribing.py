"""The subscriber side of one connection: which server m-line carries which publication.

A subscriber receives every other participant's publications, each on its own
sendonly m-line (a Slot). SDP cannot remove m-lines, so when a publication
ends its slot goes `inactive` and is reused for the next publication of that
kind: SDP does not grow with every join. A slot's publication is `pending`
from the server offer that assigns it until the client's answer is applied,
then `active` (attached: media flows).
"""

from __future__ import annotations

from dataclasses import dataclass

from roomtone.sfu.media import MediaConnection, OutgoingLine
from roomtone.sfu.publishing import Publication


@dataclass(eq=False)
class Slot:
    """A server→subscriber m-line and the publication it carries, if any."""

    line: OutgoingLine
    pending: Publication | None = None  # offered, answer not yet applied
    active: Publication | None = None  # answered and attached

    @property
    def publication(self) -> Publication | None:
        return self.pending or self.active


class Subscribing:
    """One connection's slots, kept in step with the publications it should receive."""

    def __init__(self, media: MediaConnection) -> None:
        self.media = media
        self.slots: list[Slot] = []

    def update(self, wanted: list[Publication]) -> bool:
        """Free the slots of publications no longer wanted, give each new one a slot.

        Runs only between negotiations (no slot is pending). True if m-line
        directions changed, i.e. a server offer is due.
        """
        keep = set(wanted)
        changed = False
        for slot in self.slots:
            transceiver = slot.line.transceiver
            if transceiver.direction == "sendonly" and slot.active not in keep:
                slot.line.detach()
                slot.active = None
                transceiver.direction = "inactive"
                changed = True
        carried = {slot.active for slot in self.slots if slot.active is not None}
        for publication in wanted:
            if publication in carried:
                continue
            slot = self._free_slot(publication.kind)
            slot.pending = publication
            slot.line.transceiver.direction = "sendonly"
            changed = True
        return changed

    def tracks(self) -> list[dict[str, str | None]]:
        """The `tracks` of a server offer: mid → publisher, kind, and `source` for a
        shared screen (docs/PROTOCOL.md)."""
        tracks: list[dict[str, str | None]] = []
        for slot in self.slots:
            publication = slot.publication
            if publication is None:
                continue
            track: dict[str, str | None] = {
                "mid": slot.line.transceiver.mid,
                "peerId": publication.publisher_id,
                "kind": publication.kind,
            }
            if publication.source:
                track["source"] = publication.source
            tracks.append(track)
        return tracks

    def answered(self) -> bool:
        """The client answered the server offer: attach what it assigned.

        True if a publication was unpublished meanwhile (its slot is freed by
        the next update, so another offer is due).
        """
        stale = False
        for slot in self.slots:
            publication, slot.pending = slot.pending, None
            if publication is None:
                continue
            if publication.live:
                slot.active = publication
                slot.line.attach(publication)
            else:
                stale = True
        return stale

    def clear(self) -> None:
        """The connection is going away: detach every slot."""
        for slot in self.slots:
            slot.line.detach()
            slot.pending = slot.active = None
        self.media.close()

    def _free_slot(self, kind: str) -> Slot:
        for slot in self.slots:
            if (
                slot.line.kind == kind
                and slot.publication is None
                and slot.line.transceiver.direction == "inactive"
            ):
                return slot
        slot = Slot(self.media.add_line(kind))
        self.slots.append(slot)
        return slot
