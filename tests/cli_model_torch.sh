#!/usr/bin/env bash
# A model lcae trains and the latents lcae encodes with it, checked by PyTorch: the
# published ConvAutoencoder loads the model with load_state_dict(strict=True) and encodes
# the scan to the same latents (tools/check_model_torch.py). Needs Debian's python3-torch
# (`scripts/install-deps test` installs it); without it the test is skipped (exit 77),
# except under CI, where it fails.
lcae=$1
src=${LCAE_SOURCE_DIR:?run through ctest}
t=$(mktemp -d /tmp/lcae-cli-model-torch-XXXXXX)
source "$src/tests/shell_helpers.sh"
/usr/bin/python3 -c "import torch, numpy" 2>/dev/null ||
  missing "/usr/bin/python3 has no torch or numpy (apt-get install python3-torch python3-numpy)"
scan=$src/tests/fixtures/model/scan.npy   # 2 x 3 positions, 68 x 72 detector
# (uncentred: the check prepares the patterns without a beam map; the centring itself is
# held to scipy in test_prep)
run "$lcae" train "$scan" -o "$t/m.safetensors" --crop 64 --bin 2 --base 2 --epochs 2 --center none \
  --batch 3 --seed 4 -q
expect_rc 0 "train"
run "$lcae" encode "$scan" -m "$t/m.safetensors" -o "$t/z.npy" --batch 4 -q
expect_rc 0 "encode"
run /usr/bin/python3 "$src/tools/check_model_torch.py" "$t/m.safetensors" "$scan" "$t/z.npy"
expect_rc 0 "PyTorch loads lcae's model strictly and encodes to the same latents ($out)"
echo "cli_model_torch: $fails failed"
[ "$fails" = 0 ]
