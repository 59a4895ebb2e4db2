from dealerflow.migrations import run
from services.customers.models import Base

run(Base.metadata)
