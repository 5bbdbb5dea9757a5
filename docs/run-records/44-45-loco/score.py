# python3 score.py RECORD.jsonl.gz : per-epoch accuracy, UAR and per-class recall of a --val-corpus run's
# validation records (val-logits: labels and log-probabilities over the six shared classes, in the
# order below). Used for docs/EXPERIMENTS.md runs 44-45.
import gzip, json, sys
CLASSES = ['neutral', 'happy', 'sad', 'angry', 'fearful', 'disgust']
opener = gzip.open if sys.argv[1].endswith('.gz') else open
for line in opener(sys.argv[1], 'rt'):
    if not line.strip():
        continue
    r = json.loads(line)
    K, n = r['classes'], len(r['labels'])
    conf = [[0] * K for _ in range(K)]
    for i, y in enumerate(r['labels']):
        lp = r['logp'][i * K:(i + 1) * K]
        conf[y][max(range(K), key=lambda k: lp[k])] += 1
    recall = [conf[k][k] / max(1, sum(conf[k])) for k in range(K)]
    acc = sum(conf[k][k] for k in range(K)) / n
    print(r['epoch'], n, 'acc %.1f UAR %.1f' % (100 * acc, 100 * sum(recall) / K),
          ' '.join('%s %d' % (CLASSES[k], round(100 * recall[k])) for k in range(K)))
