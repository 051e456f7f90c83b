"""PyTorch twins of nnslim's five built-in architectures (reference tooling only).

Used by tools/export_torch.py to produce ONNX files and golden outputs. The
library and its required tests never import this file.

Every model takes float32 input [N, 1, 28, 28] and returns logits [N, 10].
Convolutions followed by BatchNorm carry no bias. Layer (module) names are
stable and listed in ARCH_LAYERS below; they become the ONNX initializer names
when the export keeps BatchNorm (export_torch.py --keep-bn).

Run `/usr/bin/python3 tools/torch_models.py` to print each model and check its
parameter count against PARAM_COUNTS.
"""

import torch
import torch.nn as nn

PARAM_COUNTS = {
    "lenet300": 266610,
    "lenet5": 61706,
    "vggsmall": 870826,
    "resnet8": 77754,
    "mobilenet": 34682,
}

ARCHS = list(PARAM_COUNTS)


class LeNet300(nn.Module):
    """MLP 784-300-100-10 with ReLU."""

    def __init__(self):
        super().__init__()
        self.flatten = nn.Flatten()
        self.fc1 = nn.Linear(784, 300)
        self.relu1 = nn.ReLU()
        self.fc2 = nn.Linear(300, 100)
        self.relu2 = nn.ReLU()
        self.fc3 = nn.Linear(100, 10)

    def forward(self, x):
        x = self.flatten(x)
        x = self.relu1(self.fc1(x))
        x = self.relu2(self.fc2(x))
        return self.fc3(x)


class LeNet5(nn.Module):
    """conv(1->6,5x5,pad 2)-ReLU-maxpool2, conv(6->16,5x5)-ReLU-maxpool2,
    fc 400-120-84-10 with ReLU."""

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 6, 5, padding=2)
        self.relu1 = nn.ReLU()
        self.pool1 = nn.MaxPool2d(2)
        self.conv2 = nn.Conv2d(6, 16, 5)
        self.relu2 = nn.ReLU()
        self.pool2 = nn.MaxPool2d(2)
        self.flatten = nn.Flatten()
        self.fc1 = nn.Linear(400, 120)
        self.relu3 = nn.ReLU()
        self.fc2 = nn.Linear(120, 84)
        self.relu4 = nn.ReLU()
        self.fc3 = nn.Linear(84, 10)

    def forward(self, x):
        x = self.pool1(self.relu1(self.conv1(x)))
        x = self.pool2(self.relu2(self.conv2(x)))
        x = self.flatten(x)
        x = self.relu3(self.fc1(x))
        x = self.relu4(self.fc2(x))
        return self.fc3(x)


class VGGSmall(nn.Module):
    """Two conv3x3-BN-ReLU pairs per stage (32, 64 channels), maxpool2 after
    each stage, fc 3136-256-ReLU-dropout(0.3)-10."""

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 32, 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(32)
        self.relu1 = nn.ReLU()
        self.conv2 = nn.Conv2d(32, 32, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(32)
        self.relu2 = nn.ReLU()
        self.pool1 = nn.MaxPool2d(2)
        self.conv3 = nn.Conv2d(32, 64, 3, padding=1, bias=False)
        self.bn3 = nn.BatchNorm2d(64)
        self.relu3 = nn.ReLU()
        self.conv4 = nn.Conv2d(64, 64, 3, padding=1, bias=False)
        self.bn4 = nn.BatchNorm2d(64)
        self.relu4 = nn.ReLU()
        self.pool2 = nn.MaxPool2d(2)
        self.flatten = nn.Flatten()
        self.fc1 = nn.Linear(3136, 256)
        self.relu5 = nn.ReLU()
        self.dropout = nn.Dropout(0.3)
        self.fc2 = nn.Linear(256, 10)

    def forward(self, x):
        x = self.relu1(self.bn1(self.conv1(x)))
        x = self.relu2(self.bn2(self.conv2(x)))
        x = self.pool1(x)
        x = self.relu3(self.bn3(self.conv3(x)))
        x = self.relu4(self.bn4(self.conv4(x)))
        x = self.pool2(x)
        x = self.flatten(x)
        x = self.dropout(self.relu5(self.fc1(x)))
        return self.fc2(x)


class BasicBlock(nn.Module):
    """conv3x3(stride)-BN-ReLU-conv3x3-BN + shortcut, then ReLU. The
    shortcut is identity, or conv1x1(stride)-BN when the shape changes."""

    def __init__(self, cin, cout, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride=stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.relu1 = nn.ReLU()
        self.conv2 = nn.Conv2d(cout, cout, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        if stride != 1 or cin != cout:
            self.shortcut_conv = nn.Conv2d(cin, cout, 1, stride=stride, bias=False)
            self.shortcut_bn = nn.BatchNorm2d(cout)
        else:
            self.shortcut_conv = None
            self.shortcut_bn = None
        self.relu2 = nn.ReLU()

    def forward(self, x):
        y = self.relu1(self.bn1(self.conv1(x)))
        y = self.bn2(self.conv2(y))
        s = x if self.shortcut_conv is None else self.shortcut_bn(self.shortcut_conv(x))
        return self.relu2(y + s)


class ResNet8(nn.Module):
    """stem conv3x3(1->16)-BN-ReLU, blocks 16 s1, 32 s2, 64 s2, global
    average pool, fc 64->10."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(1, 16, 3, padding=1, bias=False)
        self.bn = nn.BatchNorm2d(16)
        self.relu = nn.ReLU()
        self.block1 = BasicBlock(16, 16, 1)
        self.block2 = BasicBlock(16, 32, 2)
        self.block3 = BasicBlock(32, 64, 2)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.flatten = nn.Flatten()
        self.fc = nn.Linear(64, 10)

    def forward(self, x):
        x = self.relu(self.bn(self.conv(x)))
        x = self.block3(self.block2(self.block1(x)))
        x = self.flatten(self.pool(x))
        return self.fc(x)


class InvertedResidual(nn.Module):
    """expand conv1x1 (x4)-BN-ReLU6, depthwise conv3x3(stride)-BN-ReLU6,
    projection conv1x1-BN (linear); residual add when stride 1 and cin == cout."""

    def __init__(self, cin, cout, stride, expand=4):
        super().__init__()
        hidden = cin * expand
        self.expand_conv = nn.Conv2d(cin, hidden, 1, bias=False)
        self.expand_bn = nn.BatchNorm2d(hidden)
        self.expand_relu = nn.ReLU6()
        self.dw_conv = nn.Conv2d(hidden, hidden, 3, stride=stride, padding=1,
                                 groups=hidden, bias=False)
        self.dw_bn = nn.BatchNorm2d(hidden)
        self.dw_relu = nn.ReLU6()
        self.project_conv = nn.Conv2d(hidden, cout, 1, bias=False)
        self.project_bn = nn.BatchNorm2d(cout)
        self.residual = stride == 1 and cin == cout

    def forward(self, x):
        y = self.expand_relu(self.expand_bn(self.expand_conv(x)))
        y = self.dw_relu(self.dw_bn(self.dw_conv(y)))
        y = self.project_bn(self.project_conv(y))
        return x + y if self.residual else y


class MobileNet(nn.Module):
    """Small MobileNetV2 for 28x28: stem conv3x3(1->16)-BN-ReLU6; inverted
    residual blocks 16->16 s1, 16->24 s2, 24->24 s1, 24->32 s2, 32->32 s1;
    conv1x1(32->128)-BN-ReLU6; global average pool; fc 128->10."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(1, 16, 3, padding=1, bias=False)
        self.bn = nn.BatchNorm2d(16)
        self.relu = nn.ReLU6()
        self.block1 = InvertedResidual(16, 16, 1)
        self.block2 = InvertedResidual(16, 24, 2)
        self.block3 = InvertedResidual(24, 24, 1)
        self.block4 = InvertedResidual(24, 32, 2)
        self.block5 = InvertedResidual(32, 32, 1)
        self.head_conv = nn.Conv2d(32, 128, 1, bias=False)
        self.head_bn = nn.BatchNorm2d(128)
        self.head_relu = nn.ReLU6()
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.flatten = nn.Flatten()
        self.fc = nn.Linear(128, 10)

    def forward(self, x):
        x = self.relu(self.bn(self.conv(x)))
        x = self.block1(x)
        x = self.block2(x)
        x = self.block3(x)
        x = self.block4(x)
        x = self.block5(x)
        x = self.head_relu(self.head_bn(self.head_conv(x)))
        x = self.flatten(self.pool(x))
        return self.fc(x)


_CONSTRUCTORS = {
    "lenet300": LeNet300,
    "lenet5": LeNet5,
    "vggsmall": VGGSmall,
    "resnet8": ResNet8,
    "mobilenet": MobileNet,
}


def param_count(model):
    return sum(p.numel() for p in model.parameters())


def build(arch):
    """Return a freshly initialised model (PyTorch default init, uses the
    global torch RNG) after checking its parameter count."""
    if arch not in _CONSTRUCTORS:
        raise ValueError("unknown arch '%s' (known: %s)" % (arch, ", ".join(ARCHS)))
    model = _CONSTRUCTORS[arch]()
    n = param_count(model)
    assert n == PARAM_COUNTS[arch], "arch '%s': %d parameters, expected %d" % (
        arch, n, PARAM_COUNTS[arch])
    return model


def randomize_bn_stats(model, gen):
    """Give every BatchNorm non-trivial affine parameters and running
    statistics so eval-mode BN is exercised (mean ~ N(0, 0.2), var in
    [0.5, 1.5], weight in [0.5, 1.5], bias ~ N(0, 0.1))."""
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, nn.BatchNorm2d):
                c = m.num_features
                m.running_mean.copy_(torch.randn(c, generator=gen) * 0.2)
                m.running_var.copy_(torch.rand(c, generator=gen) + 0.5)
                m.weight.copy_(torch.rand(c, generator=gen) + 0.5)
                m.bias.copy_(torch.randn(c, generator=gen) * 0.1)


if __name__ == "__main__":
    for a in ARCHS:
        m = build(a)
        print("%-10s %8d parameters (ok)" % (a, param_count(m)))
        for name, p in m.named_parameters():
            print("    %-28s %s" % (name, list(p.shape)))
