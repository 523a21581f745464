"""The prototype's building blocks, shared by train.py and tools/make_polar_fixture.py (the
PyTorch reference of lcae's polar model): a conv block, the decoder, the circular conv."""
import torch.nn as nn
import torch.nn.functional as F


def block(i, o, k=3, s=1):
    return nn.Sequential(nn.Conv2d(i, o, k, s, 1), nn.BatchNorm2d(o), nn.ReLU())


class Dec(nn.Module):
    def __init__(s, b, H, W, c=4, L=16):
        super().__init__()
        s.c, s.h, s.w = c, H // 16, W // 16
        s.fc = nn.Sequential(nn.Linear(L, 1024), nn.ReLU(), nn.Linear(1024, c * s.h * s.w), nn.ReLU())
        ch = [c, 8 * b, 4 * b, 2 * b, b]; L_ = []
        for i in range(4):
            L_ += [nn.ConvTranspose2d(ch[i], ch[i + 1], 4, 2, 1), nn.BatchNorm2d(ch[i + 1]), nn.ReLU(),
                   block(ch[i + 1], ch[i + 1])]
        L_ += [nn.Conv2d(b, 1, 3, 1, 1)]
        s.net = nn.Sequential(*L_)
    def forward(s, z):
        return s.net(s.fc(z).view(-1, s.c, s.h, s.w))


class CircConv(nn.Module):
    """conv over (r, theta): zero padding along r, circular along theta, stride along r only"""
    def __init__(s, i, o, sr=1):
        super().__init__()
        s.conv = nn.Conv2d(i, o, 3, (sr, 1), (1, 0)); s.bn = nn.BatchNorm2d(o)
    def forward(s, x):
        return F.relu(s.bn(s.conv(F.pad(x, (1, 1, 0, 0), mode='circular'))))
