"""Typed methods for every RPC, shared by the blocking, future-returning and asyncio clients.

Each method builds the request message from plain arguments and hands it to ``_invoke``; what
comes back (the response message, a ``Future`` of it, or an awaitable of it) is up to the class
that mixes this in.
"""

from __future__ import annotations

from typing import Any, Optional, Union

from google.protobuf.message import Message

from .gen.appointments.v1 import appointments_pb2 as pb
from .protocol import DateLike, MetadataLike, role_value, to_date

IdempotencyKey = Union[str, bytes, None]


class TypedCalls:
    """One method per RPC of ``appointments.v1.Appointments``.

    Every method takes keyword-only ``timeout`` (seconds; ``None`` means the client's default)
    and ``metadata`` (extra entries); mutating methods also take ``idempotency_key``
    (1…128 bytes): a retry with the same key returns the first answer and changes nothing.
    Each returns the method's response message (see the subclass for how).
    """

    def _invoke(
        self,
        method: str,
        request: Message,
        *,
        timeout: Optional[float],
        idempotency_key: IdempotencyKey,
        metadata: MetadataLike,
    ) -> Any:
        raise NotImplementedError

    # -- accounts ---------------------------------------------------------------------------

    def register_doctor(
        self,
        name: str,
        email: str,
        password: str,
        contact: str,
        specialization: str,
        time_zone: str = "",
        schedule: Union[pb.Schedule, dict, None] = None,
        *,
        idempotency_key: IdempotencyKey = None,
        timeout: Optional[float] = None,
        metadata: MetadataLike = None,
    ) -> Any:
        """RegisterDoctor → ``RegisterResponse`` (``.id``). ``schedule`` absent = one slot a day."""
        request = pb.RegisterDoctorRequest(
            name=name, email=email, password=password, contact=contact,
            specialization=specialization, time_zone=time_zone,
        )
        if schedule is not None:
            request.schedule.CopyFrom(schedule if isinstance(schedule, pb.Schedule) else pb.Schedule(**schedule))
        return self._invoke("RegisterDoctor", request, timeout=timeout, idempotency_key=idempotency_key, metadata=metadata)

    def register_patient(
        self,
        name: str,
        email: str,
        password: str,
        contact: str,
        *,
        idempotency_key: IdempotencyKey = None,
        timeout: Optional[float] = None,
        metadata: MetadataLike = None,
    ) -> Any:
        """RegisterPatient → ``RegisterResponse`` (``.id``)."""
        request = pb.RegisterPatientRequest(name=name, email=email, password=password, contact=contact)
        return self._invoke("RegisterPatient", request, timeout=timeout, idempotency_key=idempotency_key, metadata=metadata)

    def login(
        self,
        role: Union[int, str],
        email: str,
        password: str,
        *,
        timeout: Optional[float] = None,
        metadata: MetadataLike = None,
    ) -> Any:
        """Login → ``LoginResponse``; the client keeps the token and sends it on later calls.

        ``role`` is ``"doctor"``, ``"patient"`` or a ``Role`` value.
        """
        request = pb.LoginRequest(role=role_value(role), email=email, password=password)
        return self._invoke("Login", request, timeout=timeout, idempotency_key=None, metadata=metadata)

    def logout(self, *, timeout: Optional[float] = None, metadata: MetadataLike = None) -> Any:
        """Logout → ``LogoutResponse``: revokes the token; the client forgets it."""
        return self._invoke("Logout", pb.LogoutRequest(), timeout=timeout, idempotency_key=None, metadata=metadata)

    # -- patients ---------------------------------------------------------------------------

    def find_doctors(
        self,
        specialization: str,
        date: DateLike,
        page_size: int = 0,
        page_token: bytes = b"",
        *,
        timeout: Optional[float] = None,
        metadata: MetadataLike = None,
    ) -> Any:
        """FindDoctors → ``FindDoctorsResponse`` (``.doctors``, ``.next_page_token``)."""
        request = pb.FindDoctorsRequest(
            specialization=specialization, date=to_date(date), page_size=page_size, page_token=page_token
        )
        return self._invoke("FindDoctors", request, timeout=timeout, idempotency_key=None, metadata=metadata)

    def book_slot(
        self,
        doctor_id: int,
        date: DateLike,
        start_minute: Optional[int] = None,
        *,
        idempotency_key: IdempotencyKey = None,
        timeout: Optional[float] = None,
        metadata: MetadataLike = None,
    ) -> Any:
        """BookSlot → ``BookingResponse`` (``.appointment``). No ``start_minute``: first free slot."""
        request = pb.BookSlotRequest(doctor_id=doctor_id, date=to_date(date))
        if start_minute is not None:
            request.start_minute = start_minute
        return self._invoke("BookSlot", request, timeout=timeout, idempotency_key=idempotency_key, metadata=metadata)

    def book_any(
        self,
        specialization: str,
        date: DateLike,
        *,
        idempotency_key: IdempotencyKey = None,
        timeout: Optional[float] = None,
        metadata: MetadataLike = None,
    ) -> Any:
        """BookAny → ``BookingResponse``: the first free doctor of the specialization that day."""
        request = pb.BookAnyRequest(specialization=specialization, date=to_date(date))
        return self._invoke("BookAny", request, timeout=timeout, idempotency_key=idempotency_key, metadata=metadata)

    def cancel_appointment(
        self,
        appointment_id: int,
        *,
        idempotency_key: IdempotencyKey = None,
        timeout: Optional[float] = None,
        metadata: MetadataLike = None,
    ) -> Any:
        """CancelAppointment → ``BookingResponse`` with the cancelled appointment (idempotent)."""
        request = pb.CancelAppointmentRequest(appointment_id=appointment_id)
        return self._invoke(
            "CancelAppointment", request, timeout=timeout, idempotency_key=idempotency_key, metadata=metadata
        )

    def list_my_appointments(
        self,
        from_date: Optional[DateLike] = None,
        to_date: Optional[DateLike] = None,
        page_size: int = 0,
        page_token: bytes = b"",
        *,
        timeout: Optional[float] = None,
        metadata: MetadataLike = None,
    ) -> Any:
        """ListMyAppointments → ``AppointmentList`` (patients; dates inclusive)."""
        request = _range_request(pb.ListMyAppointmentsRequest, from_date, to_date, page_size, page_token)
        return self._invoke("ListMyAppointments", request, timeout=timeout, idempotency_key=None, metadata=metadata)

    # -- doctors ----------------------------------------------------------------------------

    def list_filled_slots(
        self,
        from_date: Optional[DateLike] = None,
        to_date: Optional[DateLike] = None,
        page_size: int = 0,
        page_token: bytes = b"",
        *,
        timeout: Optional[float] = None,
        metadata: MetadataLike = None,
    ) -> Any:
        """ListFilledSlots → ``AppointmentList`` (doctors; dates inclusive)."""
        request = _range_request(pb.ListFilledSlotsRequest, from_date, to_date, page_size, page_token)
        return self._invoke("ListFilledSlots", request, timeout=timeout, idempotency_key=None, metadata=metadata)

    # -- anyone -----------------------------------------------------------------------------

    def health(self, *, timeout: Optional[float] = None, metadata: MetadataLike = None) -> Any:
        """Health → ``HealthResponse`` (``.status``: SERVING or DRAINING)."""
        return self._invoke("Health", pb.HealthRequest(), timeout=timeout, idempotency_key=None, metadata=metadata)

    def server_info(self, *, timeout: Optional[float] = None, metadata: MetadataLike = None) -> Any:
        """ServerInfo → ``ServerInfoResponse`` (version, limits, specializations, horizon)."""
        return self._invoke("ServerInfo", pb.ServerInfoRequest(), timeout=timeout, idempotency_key=None, metadata=metadata)


def _range_request(cls: type, from_date: Optional[DateLike], to_date_: Optional[DateLike], page_size: int, page_token: bytes) -> Message:
    request = cls(page_size=page_size, page_token=page_token)
    # `from` is a Python keyword, hence getattr.
    if from_date is not None:
        getattr(request, "from").CopyFrom(to_date(from_date))
    if to_date_ is not None:
        request.to.CopyFrom(to_date(to_date_))
    return request
