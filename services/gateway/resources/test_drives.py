"""``/v1/vehicles`` and ``/v1/test-drives``: each store's test-drive
vehicles (managers add and change them), a vehicle's booking calendar with
its free slots, booking a vehicle for a lead (``409`` when the vehicle or
the specialist is taken for an overlapping time), check-in, cancellation
and the booking's iCalendar invitation. The followups service checks the
actor and owns the rules (``services/followups/test_drives.py``); the
gateway adds what only it knows: the stores' names, who books, and the
stores of the specialist asked for."""
import falcon
from sqlalchemy import select

from dealerflow.actor import GROUP_ADMIN
from dealerflow.followup_contracts import (  # noqa: F401 (named in the docstrings' OpenAPI)
    CancelIn,
    CheckInIn,
    TestDriveIn,
    TestDriveOut,
    VehicleCalendarOut,
    VehicleChange,
    VehicleIn,
    VehicleOut,
)
from services.gateway.authn import staff
from services.gateway.errors import InvalidInput
from services.gateway.models import Store, User
from services.gateway.resources.auth import load_json
from services.gateway.resources.lead_actions import Passthrough


class Resource:
    def __init__(self, clients, sessions=None):
        self.clients, self.sessions = clients, sessions


class Vehicles(Resource):
    def on_get(self, req, resp):
        """Test-drive vehicles.
        ---
        summary: The test-drive vehicles of the caller's stores (of one with store_code)
        tags: [test-drives]
        security: [{bearer: []}]
        parameters:
          - {in: query, name: store_code, schema: {type: string}}
        responses:
          200:
            description: The vehicles
            content: {application/json: {schema: {type: array, items: VehicleOut}}}
          401: {description: Not signed in}
          404: {description: Not one of the caller's stores}
        """
        resp.media = self.clients.followups.list_vehicles(staff(req), req.get_param("store_code"))

    def on_post(self, req, resp):
        """Add a test-drive vehicle.
        ---
        summary: A new test-drive vehicle of a store (managers), known by its VIN or stock number
        tags: [test-drives]
        security: [{bearer: []}]
        requestBody:
          required: true
          content: {application/json: {schema: VehicleIn}}
        responses:
          201:
            description: The vehicle
            content: {application/json: {schema: VehicleOut}}
          401: {description: Not signed in}
          403: {description: Not a manager}
          404: {description: Not one of the caller's stores}
          409: {description: Another vehicle has this VIN or this store's stock number}
          422: {description: Invalid; errors names each field}
        """
        resp.status = falcon.HTTP_201
        resp.media = self.clients.followups.add_vehicle(staff(req), load_json(req, Passthrough))


class Vehicle(Resource):
    def on_patch(self, req, resp, vehicle_id):
        """Change a test-drive vehicle.
        ---
        summary: A vehicle's trim or status (available, in_service, retired; managers)
        tags: [test-drives]
        security: [{bearer: []}]
        parameters:
          - {in: path, name: vehicle_id, required: true, schema: {type: string}}
        requestBody:
          required: true
          content: {application/json: {schema: VehicleChange}}
        responses:
          200:
            description: The vehicle
            content: {application/json: {schema: VehicleOut}}
          401: {description: Not signed in}
          403: {description: Not a manager}
          404: {description: No such vehicle of the caller's stores}
          422: {description: Invalid; errors names each field}
        """
        resp.media = self.clients.followups.change_vehicle(staff(req), vehicle_id, load_json(req, Passthrough))


class TestDrives(Resource):
    __test__ = False  # not a pytest class

    def on_get(self, req, resp):
        """A vehicle's booking calendar, or a lead's test drives.
        ---
        summary: "vehicle_id: its bookings from..to (default the next 7 days, at most 31) and its free 30-minute slots within the store's hours; lead_id: the lead's test drives"
        tags: [test-drives]
        security: [{bearer: []}]
        parameters:
          - {in: query, name: vehicle_id, schema: {type: string}}
          - {in: query, name: from, schema: {type: string, format: date-time}}
          - {in: query, name: to, schema: {type: string, format: date-time}}
          - {in: query, name: lead_id, schema: {type: string}}
        responses:
          200:
            description: "The calendar (VehicleCalendarOut), or the lead's test drives (an array of TestDriveOut)"
            content: {application/json: {schema: {oneOf: [VehicleCalendarOut, {type: array, items: TestDriveOut}]}}}
          401: {description: Not signed in}
          404: {description: No such vehicle or lead of the caller's}
          422: {description: Neither vehicle_id nor lead_id, or a bad range}
        """
        actor = staff(req)
        if req.get_param("vehicle_id"):
            resp.media = self.clients.followups.vehicle_calendar(actor, req.get_param("vehicle_id"),
                                                                 req.get_param("from"), req.get_param("to"))
        elif req.get_param("lead_id"):
            resp.media = self.clients.followups.list_test_drives(actor, req.get_param("lead_id"))
        else:
            raise InvalidInput("Which vehicle's calendar, or which lead's test drives? Give vehicle_id or lead_id.",
                               errors={"vehicle_id": ["vehicle_id or lead_id is required"]})

    def on_post(self, req, resp):
        """Book a test drive.
        ---
        summary: Book a vehicle (and a specialist) for a lead's test drive; the consultant gets a test_drive task and the customer an invitation
        tags: [test-drives]
        security: [{bearer: []}]
        requestBody:
          required: true
          content: {application/json: {schema: TestDriveIn}}
        responses:
          201:
            description: The booking
            content: {application/json: {schema: TestDriveOut}}
          401: {description: Not signed in}
          404: {description: No such lead of the caller's, or no such vehicle in its store}
          409: {description: "The vehicle or the specialist is booked for an overlapping time (errors names vehicle_id or specialist_id)"}
          422: {description: "Invalid: times outside the store's hours, under 15 minutes or over 3 hours, a vehicle not available; errors names the field"}
        """
        actor = staff(req)
        data = load_json(req, Passthrough)
        resp.status = falcon.HTTP_201
        resp.media = self.clients.followups.book_test_drive(actor, data, self.context(actor, data))

    def context(self, actor, data: dict) -> dict:
        """What the gateway knows of a booking: the stores' names, who books, the specialist's stores."""
        with self.sessions() as session:
            names = dict(session.execute(select(Store.code, Store.name).where(Store.code.in_(actor.stores))).all())
            me = session.get(User, actor.user_id)
            specialist_stores = None
            specialist_id = data.get("specialist_id")
            if isinstance(specialist_id, str) and specialist_id:
                specialist = session.get(User, specialist_id)
                if specialist is not None and specialist.active:
                    specialist_stores = (list(names) if specialist.role == GROUP_ADMIN else specialist.stores)
        return {"store_names": names, "organizer_name": me.display_name if me else None,
                "organizer_email": me.email if me else None, "specialist_stores": specialist_stores}


class CheckIn(Resource):
    def on_post(self, req, resp, booking_id):
        """Check a test drive in.
        ---
        summary: The customer came (from an hour before the start until the end); the licence number may be recorded now
        tags: [test-drives]
        security: [{bearer: []}]
        parameters:
          - {in: path, name: booking_id, required: true, schema: {type: string}}
        requestBody:
          content: {application/json: {schema: CheckInIn}}
        responses:
          200:
            description: The booking, shown
            content: {application/json: {schema: TestDriveOut}}
          401: {description: Not signed in}
          404: {description: No such test drive of the caller's}
          422: {description: Cancelled or shown already, or not its time}
        """
        resp.media = self.clients.followups.check_in_test_drive(staff(req), booking_id, load_json(req, Passthrough))


class Cancel(Resource):
    def on_post(self, req, resp, booking_id):
        """Cancel a test drive.
        ---
        summary: Cancel a booking; its slot is free again, its task cancelled, its invitation withdrawn
        tags: [test-drives]
        security: [{bearer: []}]
        parameters:
          - {in: path, name: booking_id, required: true, schema: {type: string}}
        requestBody:
          content: {application/json: {schema: CancelIn}}
        responses:
          200:
            description: The booking, cancelled
            content: {application/json: {schema: TestDriveOut}}
          401: {description: Not signed in}
          404: {description: No such test drive of the caller's}
          422: {description: Not booked (shown, no-show or cancelled already)}
        """
        resp.media = self.clients.followups.cancel_test_drive(staff(req), booking_id, load_json(req, Passthrough))


class Invitation(Resource):
    def on_get(self, req, resp, booking_id):
        """A test drive's invitation.
        ---
        summary: The booking's iCalendar invitation (METHOD:REQUEST; CANCEL once cancelled), in the store's time zone and the customer's language
        tags: [test-drives]
        security: [{bearer: []}]
        parameters:
          - {in: path, name: booking_id, required: true, schema: {type: string}}
        responses:
          200:
            description: The invitation
            content: {text/calendar: {schema: {type: string}}}
          401: {description: Not signed in}
          404: {description: No such test drive of the caller's}
        """
        resp.text = self.clients.followups.test_drive_invitation(staff(req), booking_id)
        resp.content_type = "text/calendar; charset=utf-8"
        resp.set_header("Content-Disposition", f'attachment; filename="test-drive-{booking_id[:36]}.ics"')


def add_routes(app, gateway) -> None:
    app.add_route("/v1/vehicles", Vehicles(gateway.clients))
    app.add_route("/v1/vehicles/{vehicle_id}", Vehicle(gateway.clients))
    app.add_route("/v1/test-drives", TestDrives(gateway.clients, gateway.sessions))
    app.add_route("/v1/test-drives/{booking_id}/check-in", CheckIn(gateway.clients))
    app.add_route("/v1/test-drives/{booking_id}/cancel", Cancel(gateway.clients))
    app.add_route("/v1/test-drives/{booking_id}/invitation.ics", Invitation(gateway.clients))
