"""One line per run folder and policy width: criterion 1 (RL-form wins on peaking curves: whole run,
KL <= 8.2, KL <= 3x each curve's peak KL), criterion 2 (median |gap| at best-of-n's top proxy),
KL ratio, and best-of-n's own line. usage: summarise.py RUNDIR..."""
import sys, re, json
for D in sys.argv[1:]:
    c = open(f"{D}/criteria.txt").read(); k = open(f"{D}/cutcheck.txt").read().split("== ")[-1]
    pol = re.findall(r"policy (\d+): peaking (\d+)/\d+, RL-form wins (\d+)/(\d+), median gamma ([\d.]+), KL ratio median ([\d.na]+), \|gap\| median ([\d.na]+)", c)
    cuts = re.findall(r"cut at KL <= 8.2 / 20 / 40: RL form wins (\d+) / (\d+) / (\d+) of (\d+).*?KL ratio median over the peaking curves ([\d.na]+)", c)
    win3 = re.findall(r"policy (\d+): RL-form wins on peaking curves cut at KL <= 1.5/2/3/5 x peak KL: (\d+) / (\d+) / (\d+) / (\d+) of (\d+)", k)
    T = json.load(open(f"{D}/world.json"))["settings"]["positions"]
    bon = re.search(r"BoN \(data \d+\): (.*)", c).group(1)
    for (p, pk, w, n, g, r, gap), (c8, c20, c40, cn, rp), (_, a, b, c3, e, n3) in zip(pol, cuts, win3):
        print(f"{D:18s} w{int(p)//T:<4d} whole {w}/{n}  <=8.2 {c8}/{cn}  <=3xpeak {c3}/{n3}  (1.5x {a}, 5x {e})  |gap| {gap}  KLratio(all) {r} (peaking) {rp}  gamma {g}")
    print(f"{D:18s} BoN: {bon}")
