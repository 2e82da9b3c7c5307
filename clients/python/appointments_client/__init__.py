"""Python client for the Appointments server (wire protocol v1, docs/PROTOCOL.md).

    from appointments_client import Client, RpcError, StatusCode, pb

    with Client.connect("127.0.0.1", 7070) as client:
        client.login("patient", "ann@example.org", "correct horse")
        found = client.find_doctors("cardiology", datetime.date.today())

``pb`` is the generated ``appointments.v1`` module (request and response messages), ``wire``
the generated header blocks of frame.proto.
"""

from .calls import TypedCalls
from .client import CallFuture, Client
from .frames import Frame, FrameDecoder, FrameError, FrameType, decode_frame, encode_frame, encode_message_frame
from .gen.appointments.v1 import appointments_pb2 as pb
from .gen.appointments.v1 import frame_pb2 as wire
from .protocol import METHODS, PROTOCOL_VERSION, SERVICE, Limits, Method, from_date, to_date
from .status import Reason, RpcError, StatusCode

__version__ = "0.1.0"

__all__ = [
    "CallFuture",
    "Client",
    "Frame",
    "FrameDecoder",
    "FrameError",
    "FrameType",
    "Limits",
    "METHODS",
    "Method",
    "PROTOCOL_VERSION",
    "Reason",
    "RpcError",
    "SERVICE",
    "StatusCode",
    "TypedCalls",
    "decode_frame",
    "encode_frame",
    "encode_message_frame",
    "from_date",
    "pb",
    "to_date",
    "wire",
]
