from dealerflow.migrations import run
from services.gateway.models import Base

run(Base.metadata)
