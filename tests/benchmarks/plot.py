#!/usr/bin/env python
# Copyright: accountops.cloud maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Draw docs/benchmarks.png from the JSON tests/benchmarks/run.py writes: time per N, log scales.

    python tests/benchmarks/plot.py results.json docs/benchmarks.png

Needs matplotlib (tests/benchmarks/requirements.txt).
"""

import json
import sys

import matplotlib

matplotlib.use('Agg')
import matplotlib.pyplot as plt  # noqa: E402  pylint: disable=wrong-import-position

SERIES = (
    ('uri_loop', '(a) uri GET+PUT loop', 'o-'),
    ('contact_loop', '(b) cloud_user_contact loop', 's-'),
    ('inventory_play', '(e) inventory plugin + play, 5 forks', 'v-'),
    ('template_floor', '(e1) (e) with debug of the same template, no API', '+:'),
    ('host_floor', '(e0) debug over static INI hosts (ansible-core floor)', 'x:'),
    ('cloud_users', '(c) cloud_users, one task', 'D-'),
    ('cloud_users_recheck', '(c) cloud_users re-check', 'd--'),
    ('cloud_user_info', '(d) cloud_user_info, whole tenant', '^-'),
)


def main(source, target):
    with open(source, encoding='utf-8') as handle:
        results = json.load(handle)
    ping = results['ping_s']
    fig, axis = plt.subplots(figsize=(9, 5.5), dpi=110)
    for name, label, style in SERIES:
        points = sorted((int(run['label'].split('-')[1]), run['wall_s']) for run in results['runs']
                        if run['label'].split('-')[0] == name and '-' in run['label'])
        if points:
            axis.plot([n for n, _t in points], [t for _n, t in points], style, label=label)
    sizes = sorted(set(results['sizes']))
    for multiple, text in ((1, '1 ping task'), (20, '20 ping tasks')):
        axis.axhline(ping * multiple, color='grey', linestyle=':', linewidth=1)
        axis.text(sizes[0], ping * multiple * 1.08, '%s (%.2f s)' % (text, ping * multiple), color='grey', fontsize=8)
    axis.set_xscale('log')
    axis.set_yscale('log')
    axis.set_xticks(sizes)
    axis.set_xticklabels(['{:,}'.format(size) for size in sizes])
    axis.set_xlabel('accounts (N), 10% changed')
    axis.set_ylabel('wall time of ansible-playbook (s)')
    info = results['machine']
    axis.set_title('accountops.cloud: converging N accounts (ansible-core %s, %s CPUs)' % (info['ansible_core'], info['cpus']),
                   fontsize=10)
    axis.grid(True, which='both', alpha=0.3)
    axis.legend(fontsize=8, loc='upper left')
    fig.tight_layout()
    fig.savefig(target)


if __name__ == '__main__':
    main(sys.argv[1], sys.argv[2])
