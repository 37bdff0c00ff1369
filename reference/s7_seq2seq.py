"""Section 7: a simple RNN encoder-decoder that "translates" a word to its opposite.

The encoder reads the one-hot word; its last hidden state starts the decoder, which is fed
'S' and the target (teacher forcing). S is start, E is end, ? is padding.
"""
import torch

LETTERS = 'SE?abcdefghijklmnopqrstuvwxyz'
LETTER2IDX = {ch: i for i, ch in enumerate(LETTERS)}
SEQ_DATA = [['man', 'women'], ['black', 'white'], ['king', 'queen'],
            ['girl', 'boy'], ['up', 'down'], ['high', 'low']]


def _one_hot(text):
    return torch.eye(len(LETTERS))[[LETTER2IDX[ch] for ch in text]]  # (len, 29)


def make_data(seq_data, n_step=5):
    """One-hot encoder and decoder inputs (N, n_step+1, 29) and decoder targets (N, n_step+1)."""
    enc_input, dec_input, dec_output = [], [], []
    for word, target in seq_data:
        word = word + '?' * (n_step - len(word))  # 'man??'
        target = target + '?' * (n_step - len(target))  # 'women'
        enc_input.append(_one_hot(word + 'E'))  # m a n ? ? E
        dec_input.append(_one_hot('S' + target))  # S w o m e n
        dec_output.append([LETTER2IDX[ch] for ch in target + 'E'])  # w o m e n E
    return torch.stack(enc_input), torch.stack(dec_input), torch.LongTensor(dec_output)


class Seq2Seq(torch.nn.Module):
    def __init__(self, n_class=29, n_hidden=128):
        super().__init__()
        self.encoder = torch.nn.RNN(input_size=n_class, hidden_size=n_hidden)
        self.decoder = torch.nn.RNN(input_size=n_class, hidden_size=n_hidden)
        self.fc = torch.nn.Linear(n_hidden, n_class)

    def forward(self, enc_input, enc_hidden, dec_input):
        """enc_input, dec_input (batch, n_step+1, n_class); enc_hidden (1, batch, n_hidden)."""
        enc_input = enc_input.transpose(0, 1)  # (n_step+1, batch, n_class)
        dec_input = dec_input.transpose(0, 1)  # (n_step+1, batch, n_class)
        _, h_t = self.encoder(enc_input, enc_hidden)  # (1, batch, n_hidden)
        outputs, _ = self.decoder(dec_input, h_t)  # (n_step+1, batch, n_hidden)
        return self.fc(outputs)  # (n_step+1, batch, n_class)


def train_seq2seq(seq_data=SEQ_DATA, epochs=5000, lr=0.001, batch_size=3, seed=0):
    """Adam on the summed per-word cross-entropy, shuffled mini-batches as the homework's DataLoader."""
    torch.manual_seed(seed)
    n_step = max(max(len(w), len(t)) for w, t in seq_data)
    enc_all, dec_in_all, dec_out_all = make_data(seq_data, n_step)
    model = Seq2Seq()
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    n = len(seq_data)
    for _ in range(epochs):
        for batch in torch.randperm(n).split(batch_size):  # the last batch may be smaller
            h0 = torch.zeros(1, len(batch), model.decoder.hidden_size)  # (1, batch, n_hidden)
            pred = model(enc_all[batch], h0, dec_in_all[batch]).transpose(0, 1)  # (batch, n_step+1, n_class)
            loss = sum(torch.nn.functional.cross_entropy(p, y) for p, y in zip(pred, dec_out_all[batch]))
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
    return model


def translate(model, word, n_step=5):
    """Decode greedily from 'S' and padding; cut at the first 'E' and drop the '?' padding."""
    enc_input, dec_input, _ = make_data([[word, '?' * n_step]], n_step)
    hidden = torch.zeros(1, 1, model.decoder.hidden_size)  # (1, 1, n_hidden)
    with torch.no_grad():
        output = model(enc_input, hidden, dec_input)  # (n_step+1, 1, n_class)
    decoded = ''.join(LETTERS[i] for i in output.argmax(dim=2)[:, 0].tolist())
    if 'E' in decoded:
        decoded = decoded[:decoded.index('E')]
    return decoded.replace('?', '')
