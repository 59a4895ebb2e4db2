from dealerflow.migrations import run
from services.followups.models import Base

run(Base.metadata)
