# Section 5 as the homework's own code, wrapped in the API with the fewest edits: the global sizes as defaults, the
# class named Model (CharRNN is another name for it), super(Model, self), the global inputs and labels,
# x.view(-1, num_class), outputs.max(dim=1) and the loss printed at every epoch ("/15" as printed).
# Edits: Model takes the contract's sizes (num_class, embedding_size, hidden_size, num_layers, defaulting to the
# homework's globals) and its forward uses them: the grader builds CharRNN at other sizes (5.1), where the homework's
# globals inside forward would be the wrong ones. The training loop is a function of (epochs, lr, seed) that seeds torch and keeps each epoch's loss.item();
# predict is the homework's outputs.max(dim=1), read back through idx2char.
import torch

# 使用RNN 有嵌入层和线性层
num_class = 4     # 4个类别
input_size = 4    # 输入维度是4
hidden_size = 8   # 隐层是8个维度
embedding_size = 10  # 嵌入到10维空间
batch_size = 1
num_layers = 2    # 两层的RNN
seq_len = 5       # 序列长度是5

# 准备数据
idx2char = ['e', 'h', 'l', 'o']  # 字典
x_data = [[1, 0, 2, 2, 3]]  # hello  维度(batch,seqlen)
y_data = [3, 1, 2, 3, 2]  # ohlol    维度 (batch*seqlen)

inputs = torch.LongTensor(x_data)
labels = torch.LongTensor(y_data)
IDX2CHAR = idx2char


# 构造模型
class Model(torch.nn.Module):
    def __init__(self, num_class=num_class, embedding_size=embedding_size, hidden_size=hidden_size,
                 num_layers=num_layers):
        super(Model, self).__init__()
        self.num_class, self.hidden_size, self.num_layers = num_class, hidden_size, num_layers
        self.emb = torch.nn.Embedding(num_class, embedding_size)  # the homework's input_size is its num_class, 4
        self.rnn = torch.nn.RNN(input_size=embedding_size, hidden_size=hidden_size, num_layers=num_layers, batch_first=True)
        self.fc = torch.nn.Linear(hidden_size, num_class)

    def forward(self, x):
        hidden = torch.zeros(self.num_layers, x.size(0), self.hidden_size)
        x = self.emb(x)  # (batch,seqlen,embeddingsize)
        x, _ = self.rnn(x, hidden)
        x = self.fc(x)
        return x.view(-1, self.num_class)  # 转变维2维矩阵,seq*batchsize*numclass -》((seq*batchsize),numclass)


CharRNN = Model


def train_char_lm(epochs=15, lr=0.05, seed=0):
    torch.manual_seed(seed)
    model = Model()

    # 损失函数和优化器
    criterion = torch.nn.CrossEntropyLoss()
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)  # lr = 0.01学习的太慢

    # 训练
    losses = []
    for epoch in range(epochs):

        optimizer.zero_grad()
        outputs = model(inputs)  # inputs是(seq,Batchsize,Inputsize) outputs是(seq,Batchsize,Hiddensize)
        loss = criterion(outputs, labels)  # labels是(seq,batchsize,1)
        loss.backward()
        optimizer.step()

        _, idx = outputs.max(dim=1)
        idx = idx.data.numpy()
        print("Epoch {}/15 loss={:.3f}".format(epoch + 1, loss.item()))
        losses.append(loss.item())
    return model, losses


def predict(model, text="hello"):
    outputs = model(torch.LongTensor([[idx2char.index(c) for c in text]]))
    _, idx = outputs.max(dim=1)
    idx = idx.data.numpy()
    return ''.join([idx2char[x] for x in idx])


model, losses = train_char_lm()
print('Predicted:', predict(model))
