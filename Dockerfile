# Pipecat Cloud image: the base image runs its own server and calls bot() for each session.
FROM dailyco/pipecat-base:latest

COPY ./requirements.txt requirements.txt
RUN pip install --no-cache-dir -r requirements.txt

# Everything bot.py imports (tests/test_deploy.py checks this list).
COPY ./bot.py bot.py
COPY ./phrases.py phrases.py
COPY ./exotel_bot exotel_bot
