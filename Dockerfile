# Roadmap Tutor: the index and the ONNX query encoder are built with torch in the first stage; the
# image that runs the bot has neither torch nor sentence-transformers and needs no network but Discord.
#
#   docker build -t roadmap-tutor .
#   docker run -d --name tutor -e DISCORD_TOKEN -v tutor-data:/app/data roadmap-tutor
#
# Use a named volume for /app/data: Docker fills it with the built index on first use, and it keeps
# the progress database across upgrades. Mount your own settings at /app/config.yaml.

FROM python:3.11-slim AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1 HF_HUB_OFFLINE=1
# The CPU build of torch; from PyPI alone pip would take a multi-GB CUDA build.
ARG TORCH_INDEX=https://download.pytorch.org/whl/cpu
WORKDIR /src
COPY pyproject.toml README.md ./
COPY bot ./bot
COPY indexer ./indexer
COPY knowledge ./knowledge
RUN python -m venv /opt/build \
 && /opt/build/bin/pip install ${TORCH_INDEX:+--extra-index-url "$TORCH_INDEX"} torch==2.13.0 ".[embed]"
# Embeds the shipped knowledge and exports the model to ONNX beside the index, in /src/data/index.
RUN /opt/build/bin/roadmap-tutor index build

FROM python:3.11-slim
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1 PYTHONUNBUFFERED=1 HF_HUB_OFFLINE=1 \
    PATH=/opt/tutor/bin:$PATH
WORKDIR /app
COPY pyproject.toml README.md /tmp/src/
COPY bot /tmp/src/bot
COPY indexer /tmp/src/indexer
COPY knowledge /tmp/src/knowledge
RUN python -m venv /opt/tutor && /opt/tutor/bin/pip install /tmp/src && rm -rf /tmp/src \
 && useradd --system --create-home --uid 10001 tutor \
 && printf 'data_dir: /app/data\nmodel:\n  backend: onnx\n' > /app/config.yaml \
 && mkdir -p /app/data && chown tutor:tutor /app/data
COPY --from=build --chown=tutor:tutor /src/data/index /app/data/index
USER tutor
VOLUME ["/app/data"]
CMD ["roadmap-tutor", "run"]
