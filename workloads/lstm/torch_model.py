from torch import nn

from workloads.lstm import CLASSES


class LSTMClassifier(nn.Module):
    def __init__(self, vocab, embed, hidden):
        super().__init__()
        self.embedding = nn.Embedding(vocab, embed)
        self.lstm = nn.LSTM(embed, hidden, batch_first=True)
        self.fc = nn.Linear(hidden, CLASSES)

    def forward(self, tokens):
        _, (hidden, _) = self.lstm(self.embedding(tokens))
        return self.fc(hidden[-1])


def build(settings, hyper):
    return LSTMClassifier(hyper["vocab"], hyper["embed"], hyper["hidden"])
