"""A sandbox gateway that cannot read sessions: the failure a processing retry must survive."""

from paylinks.gateways import CheckoutSession, GatewayError
from paylinks.gateways.sandbox.gateway import SandboxGateway


class FlakyGateway(SandboxGateway):
    def retrieve_checkout_session(self, session_id: str) -> CheckoutSession:
        raise GatewayError("The gateway timed out", permanent=False)
