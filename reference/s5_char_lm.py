"""Section 5: the character-level language model, "hello" -> "ohlol".

Embedding -> 2-layer nn.RNN (batch_first) -> Linear, trained with Adam and cross-entropy.
"""
import torch

IDX2CHAR = ['e', 'h', 'l', 'o']
X_TEXT, Y_TEXT = "hello", "ohlol"


def encode(text):
    return torch.LongTensor([[IDX2CHAR.index(ch) for ch in text]])  # (1, seq_len)


class CharRNN(torch.nn.Module):
    def __init__(self, num_class=4, embedding_size=10, hidden_size=8, num_layers=2):
        super().__init__()
        self.num_class, self.hidden_size, self.num_layers = num_class, hidden_size, num_layers
        self.emb = torch.nn.Embedding(num_class, embedding_size)
        self.rnn = torch.nn.RNN(input_size=embedding_size, hidden_size=hidden_size,
                                num_layers=num_layers, batch_first=True)
        self.fc = torch.nn.Linear(hidden_size, num_class)

    def forward(self, x):
        """x (batch, seq_len) LongTensor -> logits (batch*seq_len, num_class), from a zero hidden state."""
        hidden = torch.zeros(self.num_layers, x.size(0), self.hidden_size)  # (layers, batch, hidden)
        x = self.emb(x)  # (batch, seq_len, embedding)
        x, _ = self.rnn(x, hidden)  # (batch, seq_len, hidden)
        x = self.fc(x)  # (batch, seq_len, num_class)
        return x.reshape(-1, self.num_class)  # (batch*seq_len, num_class)


def train_char_lm(epochs=15, lr=0.05, seed=0):
    """Train CharRNN on "hello" -> "ohlol"; losses[i] is epoch i's forward-pass loss, as printed."""
    torch.manual_seed(seed)
    model = CharRNN()
    inputs, labels = encode(X_TEXT), encode(Y_TEXT).view(-1)  # (1, 5), (5,)
    criterion = torch.nn.CrossEntropyLoss()
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    losses = []
    for _ in range(epochs):
        optimizer.zero_grad()
        loss = criterion(model(inputs), labels)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    return model, losses


def predict(model, text="hello"):
    """The argmax character at each position of text."""
    with torch.no_grad():
        idx = model(encode(text)).argmax(dim=1)  # (seq_len,)
    return "".join(IDX2CHAR[i] for i in idx.tolist())
