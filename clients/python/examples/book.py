"""The original flow: register a doctor and a patient, log in, find a cardiologist free tomorrow,
book him, list my appointments.   python3 examples/book.py [host [port]]"""
import datetime, os, sys, uuid

from appointments_client import Client

host = sys.argv[1] if len(sys.argv) > 1 else os.environ.get("APPOINTMENTS_HOST", "127.0.0.1")
port = int(sys.argv[2] if len(sys.argv) > 2 else os.environ.get("APPOINTMENTS_PORT", "7070"))
run = uuid.uuid4().hex[:8]
tomorrow = datetime.datetime.now(datetime.timezone.utc).date() + datetime.timedelta(days=1)

with Client.connect(host, port, default_timeout=10) as client:
    client.register_doctor("Dr. Grey", f"grey-{run}@example.org", "s3cret-pass", "+1 555 0100", "cardiology")
    client.register_patient("Ann Lee", f"ann-{run}@example.org", "s3cret-pass", "+1 555 0199")
    client.login("patient", f"ann-{run}@example.org", "s3cret-pass")  # the client keeps the token
    doctors = client.find_doctors("cardiology", tomorrow).doctors
    print("free cardiologists tomorrow:", [(d.doctor.id, d.doctor.name) for d in doctors])
    booked = client.book_slot(doctors[0].doctor.id, tomorrow, idempotency_key=f"book-{run}").appointment
    print(f"booked #{booked.id} with {booked.doctor.name} on {tomorrow} at {booked.start_minute // 60:02d}:{booked.start_minute % 60:02d}")
    for a in client.list_my_appointments(tomorrow, tomorrow).appointments:
        print(f"  #{a.id} {a.doctor.name} ({a.doctor.contact}) {a.date.year}-{a.date.month:02d}-{a.date.day:02d}")
