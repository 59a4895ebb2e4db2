from dealerflow.migrations import run
from services.leads.models import Base

run(Base.metadata)
