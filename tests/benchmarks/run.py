#!/usr/bin/env python
# Copyright: accountops.cloud maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Side-by-side benchmark of the ways to converge N accounts, against the API emulator, in one run.

    make bench                                  # N = 100, 1,000, 10,000; writes docs/benchmarks.md and .png
    python tests/benchmarks/run.py --quick      # N = 100 only, a smoke test: fails on a wrong request count

For each N (10% of the accounts need a change) it runs real ansible-playbook processes:
  (a) uri_loop         ansible.builtin.uri: one token, then a GET loop and a PUT loop   (N <= 1,000)
  (b) contact_loop     a loop of accountops.cloud.cloud_user_contact items                (N <= 1,000)
  (c) cloud_users      one accountops.cloud.cloud_users task, then the same again (re-check)
  (d) cloud_user_info  accountops.cloud.cloud_user_info over the whole tenant
  (e) inventory_play   the accountops.cloud.cloud_users inventory plugin, a play over its hosts, default forks (N <= 1,000)
  (f) fifty_tasks      50 cloud_user_contact tasks in one playbook (N = 100 only): the token requests
and times, in the same run, ansible.builtin.ping tasks (the unit every figure is divided by) and an empty
playbook (the fixed start-up cost of ansible-playbook).

Measured for each run: wall time of the ansible-playbook process; the time of the measured task(s) from the
bench_timer callback; the emulator's request log by kind (token, read = GET, write = PUT); peak memory of the
ansible-playbook process tree (the largest process's max RSS from wait4(), and the peak of the tree's summed
PSS sampled from /proc every 0.1 s).

Needs the main .venv (ansible-core, requests); the chart needs matplotlib, taken from
tests/benchmarks/requirements.txt into .cache/venv-bench when the running Python lacks it.
"""

from __future__ import annotations

import argparse
import datetime
import json
import math
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, REPO)

from tests.emulator.harness import Emulator, request_kinds as kinds  # noqa: E402  pylint: disable=wrong-import-position

CLIENT_ID = '3663410d-4b70-4860-860c-8db82bffab8e'
CLIENT_SECRET = 'demo-client-secret-0123456789'
MSP = 'cc6f6ef1-7d48-4da2-9cdf-3473ba866f4a'
TENANT = 'c43cda73-2ee8-41fa-8f29-820d0e70a5c1'
SIZES = (100, 1000, 10000)
SLOW_MAX = 1000          # (a), (b) and (e) only up to this N
CHANGED_EVERY = 10       # 10% of the accounts need a change
PING_TASKS = 7

TARGETS_DOC = """\
| target | measured | verdict |
|---|---|---|
"""


# -- measurement ------------------------------------------------------------------------------------------------

def tree_pids(root):
    """root and all its descendants, from /proc."""
    children = {}
    for name in os.listdir('/proc'):
        if not name.isdigit():
            continue
        try:
            with open('/proc/%s/stat' % name, 'rb') as handle:
                stat = handle.read().decode('ascii', 'replace')
        except OSError:
            continue
        ppid = int(stat[stat.rindex(')') + 2:].split()[1])
        children.setdefault(ppid, []).append(int(name))
    out, todo = [], [root]
    while todo:
        pid = todo.pop()
        out.append(pid)
        todo.extend(children.get(pid, ()))
    return out


def pss_kib(pid):
    for name, field in (('smaps_rollup', 'Pss:'), ('status', 'VmRSS:')):
        try:
            with open('/proc/%d/%s' % (pid, name), encoding='ascii') as handle:
                for line in handle:
                    if line.startswith(field):
                        return int(line.split()[1])
        except (OSError, ValueError):
            continue
    return 0


class TreeSampler(threading.Thread):
    """Peak of the summed PSS of a process tree (PSS shares the pages forked workers have in common fairly)."""

    def __init__(self, pid, interval=0.1):
        super().__init__(daemon=True)
        self.pid = pid
        self.interval = interval
        self.peak_kib = 0
        self.stop = threading.Event()

    def run(self):
        while not self.stop.is_set():
            try:
                total = sum(pss_kib(pid) for pid in tree_pids(self.pid))
            except OSError:
                total = 0
            self.peak_kib = max(self.peak_kib, total)
            self.stop.wait(self.interval)


class Bench:
    def __init__(self, workdir, verbose=False):
        self.workdir = workdir
        self.verbose = verbose
        self.emulator = Emulator(workdir=os.path.join(workdir, 'emulator'))
        self.bin = os.path.dirname(sys.executable)
        self.counter = 0
        self.base_state = None

    def start(self):
        self.emulator.start()
        with open(os.path.join(REPO, 'tests', 'emulator', 'demo_state.json'), encoding='utf-8') as handle:
            state = json.load(handle)
        self.base_state = {'tenants': state['tenants'], 'clients': state['clients'], 'users': [],
                           'config': {'request_log_max': 1000000}}

    def stop(self):
        self.emulator.stop()

    def reset(self, count):
        state = dict(self.base_state, generate_users={'count': count, 'tenant_id': TENANT, 'login_prefix': 'user',
                                                      'activated_every': 2, 'seed': 1})
        self.emulator.reset(state)
        users = self.emulator.state()['users']
        assert len(users) == count, len(users)
        return users

    def env(self, run_dir, cache_home=None):
        env = dict((key, value) for key, value in os.environ.items() if not key.startswith(('ACRONIS_', 'ANSIBLE_')))
        env.update({
            'ANSIBLE_COLLECTIONS_PATH': os.environ.get('ANSIBLE_COLLECTIONS_PATH') or os.path.join(REPO, 'build'),
            'ANSIBLE_CALLBACK_PLUGINS': os.path.join(HERE, 'callback_plugins'),
            'ANSIBLE_CALLBACKS_ENABLED': 'bench_timer',
            'ANSIBLE_NOCOLOR': '1',
            'ANSIBLE_HOST_KEY_CHECKING': 'False',
            'ANSIBLE_RETRY_FILES_ENABLED': 'False',
            'ANSIBLE_LOCAL_TEMP': os.path.join(run_dir, 'tmp'),
            'ANSIBLE_PYTHON_INTERPRETER': sys.executable,
            'ACCOUNTOPS_BENCH_TIMINGS': os.path.join(run_dir, 'timings.json'),
            'XDG_CACHE_HOME': cache_home or os.path.join(run_dir, 'xdg-cache'),
            'ACRONIS_BASE_URL': self.emulator.url,
            'ACRONIS_CLIENT_ID': CLIENT_ID,
            'ACRONIS_CLIENT_SECRET': CLIENT_SECRET,
            'PATH': self.bin + os.pathsep + os.environ.get('PATH', ''),
        })
        return env

    def playbook(self, label, plays, extra_vars=None, inventory=None, cache_home=None, measure=None):
        """Run one ansible-playbook; returns a dict of the figures. measure: task names whose time is 'task_s'."""
        self.counter += 1
        run_dir = os.path.join(self.workdir, '%03d-%s' % (self.counter, label))
        os.makedirs(run_dir)
        book = os.path.join(run_dir, 'playbook.yml')
        with open(book, 'w', encoding='utf-8') as handle:
            json.dump(plays, handle, indent=1)
        if inventory is None:
            inventory = os.path.join(run_dir, 'hosts.ini')
            with open(inventory, 'w', encoding='utf-8') as handle:
                handle.write('localhost ansible_connection=local ansible_python_interpreter=%s\n' % sys.executable)
        command = [os.path.join(self.bin, 'ansible-playbook'), '-i', inventory, book]
        if extra_vars is not None:
            vars_file = os.path.join(run_dir, 'vars.json')
            with open(vars_file, 'w', encoding='utf-8') as handle:
                json.dump(extra_vars, handle)
            command += ['-e', '@' + vars_file]
        self.emulator.clear_requests()
        with open(os.path.join(run_dir, 'stdout.txt'), 'wb') as out, open(os.path.join(run_dir, 'stderr.txt'), 'wb') as err:
            started = time.perf_counter()
            proc = subprocess.Popen(command, env=self.env(run_dir, cache_home), cwd=run_dir, stdin=subprocess.DEVNULL,
                                    stdout=out, stderr=err)
            sampler = TreeSampler(proc.pid)
            sampler.start()
            _pid, status, usage = os.wait4(proc.pid, 0)
            wall = time.perf_counter() - started
            sampler.stop.set()
            sampler.join()
        proc.returncode = os.waitstatus_to_exitcode(status)
        log = self.emulator.requests()
        with open(os.path.join(run_dir, 'timings.json'), encoding='utf-8') as handle:
            timings = json.load(handle)
        tasks = timings['tasks']
        ends = [task['start'] for task in tasks[1:]] + [timings['end']]
        for task, end in zip(tasks, ends):
            task['seconds'] = end - task['start']
        wanted = [task for task in tasks if measure is None or task['name'] in measure]
        figures = {
            'label': label, 'rc': proc.returncode, 'wall_s': wall,
            'task_s': sum(task['seconds'] for task in wanted),
            'tasks': [(task['name'], task['seconds'], task['results']) for task in tasks],
            'requests': kinds(log),
            'max_rss_mb': usage.ru_maxrss / 1024.0,
            'tree_pss_mb': sampler.peak_kib / 1024.0,
            'run_dir': run_dir,
        }
        if proc.returncode != 0:
            with open(os.path.join(run_dir, 'stdout.txt'), encoding='utf-8', errors='replace') as handle:
                tail = handle.read()[-3000:]
            raise RuntimeError('%s: ansible-playbook exited %d; see %s\n%s' % (label, proc.returncode, run_dir, tail))
        if self.verbose:
            print('    %-16s wall %7.2fs  task %7.2fs  %s  rss %.0f MB' % (
                label, wall, figures['task_s'], figures['requests'], figures['max_rss_mb']), flush=True)
        return figures


# -- scenarios --------------------------------------------------------------------------------------------------

def play(tasks, hosts='localhost'):
    return [{'name': 'bench', 'hosts': hosts, 'gather_facts': False, 'tasks': tasks}]


def wanted_names(users):
    """(user_id, login, firstname wanted): every tenth account gets a new first name."""
    out = []
    for index, user in enumerate(users):
        name = user['contact']['firstname']
        if index % CHANGED_EVERY == 0:
            name = 'Changed%d' % index
        out.append({'user_id': user['id'], 'login': user['login'], 'firstname': name})
    return out


def ping_unit(bench):
    tasks = [{'name': 'warm-up', 'ansible.builtin.ping': {}}]
    tasks += [{'name': 'ping %d' % index, 'ansible.builtin.ping': {}} for index in range(PING_TASKS)]
    run = bench.playbook('ping', play(tasks))
    return [seconds for name, seconds, _results in run['tasks'] if name != 'warm-up']


def empty_playbook(bench, extra_vars=None):
    run = bench.playbook('empty', play([]), extra_vars=extra_vars)
    return run['wall_s']


def cloud_users_input(wanted):
    return {'users': [{'user_id': item['user_id'], 'contact': {'firstname': item['firstname']}} for item in wanted]}


def uri_loop(bench, count, wanted):
    api = bench.emulator.url + '/api/2'
    auth = {'Authorization': 'Bearer {{ token.json.access_token }}'}
    tasks = [
        {'name': 'token', 'no_log': True, 'register': 'token', 'ansible.builtin.uri': {
            'url': api + '/idp/token', 'method': 'POST', 'body_format': 'form-urlencoded',
            'body': {'grant_type': 'client_credentials'}, 'url_username': CLIENT_ID, 'url_password': CLIENT_SECRET,
            'force_basic_auth': True}},
        {'name': 'read', 'register': 'got', 'loop': '{{ wanted }}', 'loop_control': {'label': '{{ item.user_id }}'},
         'ansible.builtin.uri': {'url': api + '/users/{{ item.user_id }}', 'headers': auth}},
        {'name': 'write', 'loop': '{{ got.results }}', 'loop_control': {'label': '{{ item.item.user_id }}'},
         'when': 'item.json.contact.firstname != item.item.firstname',
         'ansible.builtin.uri': {'url': api + '/users/{{ item.item.user_id }}', 'method': 'PUT', 'headers': auth,
                                 'body_format': 'json',
                                 'body': "{{ {'version': item.json.version, 'contact': {'firstname': item.item.firstname}} }}"}},
    ]
    run = bench.playbook('uri_loop-%d' % count, play(tasks), extra_vars={'wanted': wanted}, measure=('token', 'read', 'write'))
    run['expected'] = {'token': 1, 'read': count, 'write': count // CHANGED_EVERY}
    return run


def contact_loop(bench, count, wanted):
    tasks = [{'name': 'contact', 'loop': '{{ wanted }}', 'loop_control': {'label': '{{ item.user_id }}'},
              'accountops.cloud.cloud_user_contact': {'user_id': '{{ item.user_id }}', 'contact': {'firstname': '{{ item.firstname }}'}}}]
    run = bench.playbook('contact_loop-%d' % count, play(tasks), extra_vars={'wanted': wanted}, measure=('contact',))
    run['expected'] = {'token': 1, 'read': count, 'write': count // CHANGED_EVERY}
    return run


def cloud_users(bench, count, wanted, cache_home, recheck):
    tasks = [{'name': 'cloud_users', 'accountops.cloud.cloud_users': {'users': '{{ users }}'}}]
    label = ('cloud_users_recheck-%d' if recheck else 'cloud_users-%d') % count
    run = bench.playbook(label, play(tasks), extra_vars=cloud_users_input(wanted), cache_home=cache_home, measure=('cloud_users',))
    run['expected'] = {'token': 0 if recheck else 1, 'read': math.ceil(count / 100),
                       'write': 0 if recheck else count // CHANGED_EVERY}
    return run


def user_info(bench, count, cache_home):
    tasks = [{'name': 'info', 'register': 'info', 'accountops.cloud.cloud_user_info': {'tenant_id': TENANT}},
             {'name': 'count', 'ansible.builtin.assert': {'that': ['info.users | length == %d' % count], 'quiet': True}}]
    run = bench.playbook('cloud_user_info-%d' % count, play(tasks), cache_home=cache_home, measure=('info',))
    run['expected'] = {'token': 0, 'read': max(1, math.ceil(count / 1000)), 'write': 0}
    return run


# The first name each host of the inventory play should have: its new one, or the one it has.
WANTED_FIRSTNAME = '{{ new_names[cloud_login] | default(cloud_contact.firstname) }}'


def inventory_source(bench, count, label):
    run_dir = os.path.join(bench.workdir, '%s-%d' % (label, count))
    os.makedirs(run_dir)
    source = os.path.join(run_dir, 'accounts.cloud_users.yml')
    with open(source, 'w', encoding='utf-8') as handle:
        json.dump({'plugin': 'accountops.cloud.cloud_users', 'tenant_id': TENANT}, handle)
    return source


def new_names_of(wanted):
    return dict((item['login'], item['firstname']) for index, item in enumerate(wanted) if index % CHANGED_EVERY == 0)


def inventory_play(bench, count, wanted):
    tasks = [{'name': 'contact', 'accountops.cloud.cloud_user_contact': {
        'user_id': '{{ cloud_user_id }}', 'contact': {'firstname': WANTED_FIRSTNAME}}}]
    run = bench.playbook('inventory_play-%d' % count, play(tasks, hosts='cloud_accounts'), inventory=inventory_source(bench, count, 'inventory'),
                         extra_vars={'new_names': new_names_of(wanted)}, measure=('contact',))
    run['expected'] = {'token': 1, 'read': max(1, math.ceil(count / 1000)) + count, 'write': count // CHANGED_EVERY}
    return run


def template_floor(bench, count, wanted):
    """The inventory play with ansible.builtin.debug in place of cloud_user_contact: same hosts, same template, no API."""
    tasks = [{'name': 'debug', 'ansible.builtin.debug': {'msg': WANTED_FIRSTNAME}}]
    run = bench.playbook('template_floor-%d' % count, play(tasks, hosts='cloud_accounts'), inventory=inventory_source(bench, count, 'template'),
                         extra_vars={'new_names': new_names_of(wanted)}, measure=('debug',))
    run['expected'] = {'token': 1, 'read': max(1, math.ceil(count / 1000)), 'write': 0}
    return run


def host_floor(bench, count):
    """ansible-core's own cost per host: a debug task over N hosts of a static INI inventory (no API, no plugin)."""
    run_dir = os.path.join(bench.workdir, 'floor-%d' % count)
    os.makedirs(run_dir)
    inventory = os.path.join(run_dir, 'hosts.ini')
    with open(inventory, 'w', encoding='utf-8') as handle:
        handle.write('[accounts]\n')
        for index in range(count):
            handle.write('user%05d ansible_connection=local\n' % index)
    tasks = [{'name': 'debug', 'ansible.builtin.debug': {'msg': '{{ inventory_hostname }}'}}]
    run = bench.playbook('host_floor-%d' % count, play(tasks, hosts='accounts'), inventory=inventory, measure=('debug',))
    run['expected'] = {'token': 0, 'read': 0, 'write': 0}
    return run


def fifty_tasks(bench, users):
    tasks = [{'name': 'task %d' % index, 'accountops.cloud.cloud_user_contact': {
        'user_id': users[index]['id'], 'contact': {'title': 'Bench %d' % index}}} for index in range(50)]
    run = bench.playbook('fifty_tasks', play(tasks))
    run['expected'] = {'token': 1, 'read': 50, 'write': 50}
    return run


# -- report -----------------------------------------------------------------------------------------------------

def machine():
    cpu = platform.processor() or platform.machine()
    try:
        with open('/proc/cpuinfo', encoding='utf-8') as handle:
            for line in handle:
                if line.startswith('model name'):
                    cpu = line.split(':', 1)[1].strip()
                    break
    except OSError:
        pass
    memory = ''
    try:
        with open('/proc/meminfo', encoding='utf-8') as handle:
            memory = '%.1f GiB RAM' % (int(handle.readline().split()[1]) / 1024.0 / 1024.0)
    except (OSError, ValueError, IndexError):
        pass
    import ansible.release  # pylint: disable=import-outside-toplevel
    return {'cpu': cpu, 'cpus': os.cpu_count(), 'memory': memory, 'os': platform.platform(), 'load_start': os.getloadavg(),
            'python': platform.python_version(), 'ansible_core': ansible.release.__version__,
            'date': datetime.datetime.now(datetime.timezone.utc).strftime('%Y-%m-%d %H:%M UTC')}


DESCRIPTIONS = {
    'uri_loop': '(a) `ansible.builtin.uri` GET loop + PUT loop',
    'contact_loop': '(b) loop of `cloud_user_contact` items',
    'cloud_users': '(c) one `cloud_users` task',
    'cloud_users_recheck': '(c) `cloud_users` re-check (nothing to change)',
    'cloud_user_info': '(d) `cloud_user_info` over the tenant',
    'inventory_play': '(e) inventory plugin + play over its hosts (5 forks)',
    'template_floor': '(e1) for scale: (e) with `debug` of the same template instead of the module (no API call)',
    'host_floor': '(e0) for scale: `debug` over N static INI hosts (5 forks)',
    'fifty_tasks': '(f) 50 `cloud_user_contact` tasks in one playbook',
}


def per_item(run):
    """Per account (loop item or host) for the loop and many-host scenarios."""
    return run['label'].split('-')[0] in ('uri_loop', 'contact_loop', 'inventory_play', 'template_floor', 'host_floor')


def evaluate(results):
    ping = results['ping_s']
    runs = dict((run['label'], run) for run in results['runs'])
    checks = []

    def add(text, value, limit, ok_when_le=True, unit=''):
        ok = value <= limit if ok_when_le else value >= limit
        checks.append({'target': text, 'measured': value, 'limit': limit, 'unit': unit, 'ok': ok})

    for label, limit in (('cloud_users-10000', 20), ('cloud_users_recheck-10000', 10)):
        if label in runs:
            add('%s: task time in ping tasks (<= %d)' % (label, limit), runs[label]['task_s'] / ping, limit, unit='ping')
            add('%s: wall time minus ansible-playbook start-up, in ping tasks (<= %d)' % (label, limit),
                (runs[label]['wall_s'] - results['empty_s']) / ping, limit, unit='ping')
            # ansible-playbook reading the 10,000-account variables file is input, not converging: an empty
            # playbook given the same file measures it.
            add('%s: wall time minus an empty playbook given the same variables file, in ping tasks (<= %d)' % (label, limit),
                (runs[label]['wall_s'] - results['input_s']['10000']) / ping, limit, unit='ping')
    for label in ('contact_loop-1000', 'inventory_play-1000'):
        if label in runs:
            run = runs[label]
            add('%s: task time per item in ping tasks (<= 1/20)' % label, run['task_s'] / 1000 / ping, 0.05, unit='ping')
            add('%s: wall time minus start-up per item in ping tasks (<= 1/20)' % label,
                (run['wall_s'] - results['empty_s']) / 1000 / ping, 0.05, unit='ping')
    for run in results['runs']:
        name = run['label'].split('-')[0]
        if name in ('cloud_users', 'cloud_users_recheck'):
            expected = dict(run['expected'])
            got = run['requests']
            ok = got['read'] == expected['read'] and got['write'] == expected['write'] and got['token'] <= 1 and not got['errors']
            checks.append({'target': '%s: requests = ceil(N/100) reads, %s writes, <= 1 token' % (
                run['label'], 'no' if name.endswith('recheck') else 'one per changed account,'),
                'measured': '%d reads, %d writes, %d token' % (got['read'], got['write'], got['token']),
                'limit': '%d reads, %d writes' % (expected['read'], expected['write']), 'unit': '', 'ok': ok})
    if 'cloud_users-10000' in runs:
        add('cloud_users-10000: peak memory, largest process max RSS (< 200 MB)', runs['cloud_users-10000']['max_rss_mb'], 200, unit='MB')
        add('cloud_users-10000: peak memory, process tree PSS (< 200 MB)', runs['cloud_users-10000']['tree_pss_mb'], 200, unit='MB')
    if 'fifty_tasks' in runs:
        add('fifty_tasks: token requests (= 1)', runs['fifty_tasks']['requests']['token'], 1, unit='')
    for run in results['runs']:
        got, expected = run['requests'], run['expected']
        run['requests_ok'] = (got['read'], got['write'], got['token']) == (expected['read'], expected['write'], expected['token']) \
            and not got['errors']
    return checks


def fmt_value(value, unit):
    if isinstance(value, str):
        return value
    if unit == 'ping':
        return '%.3f ping' % value if value < 1 else '%.1f ping' % value
    if unit == 'MB':
        return '%.0f MB' % value
    return '%g' % value


def table(results):
    ping = results['ping_s']
    lines = [
        '| scenario | N | wall (s) | measured task(s) (s) | in ping tasks | per account (ms) | per account in ping | '
        'token / read / write | expected | peak RSS, largest process (MB) | peak PSS, tree (MB) |',
        '|---|---:|---:|---:|---:|---:|---:|---|:---:|---:|---:|',
    ]
    for run in results['runs']:
        name, _sep, size = run['label'].partition('-')
        count = int(size) if size else 50
        req = run['requests']
        per = run['task_s'] / count
        lines.append('| %s | %s | %.2f | %.2f | %.1f | %s | %s | %d / %d / %d | %s | %.0f | %.0f |' % (
            DESCRIPTIONS[name], '{:,}'.format(count) if size else '50 tasks', run['wall_s'], run['task_s'], run['task_s'] / ping,
            '%.1f' % (per * 1000) if per_item(run) else '', '%.3f' % (per / ping) if per_item(run) else '',
            req['token'], req['read'], req['write'], 'yes' if run['requests_ok'] else 'NO (%(token)d / %(read)d / %(write)d)' % run['expected'],
            run['max_rss_mb'], run['tree_pss_mb']))
    return '\n'.join(lines)


KEEP_MARKER = '<!-- Generated above by tests/benchmarks/run.py; the text below this line is written by hand and kept. -->'


def kept_text(path):
    """The hand-written part of an existing page (after KEEP_MARKER), or ''."""
    try:
        with open(path, encoding='utf-8') as handle:
            text = handle.read()
    except OSError:
        return ''
    return text.split(KEEP_MARKER, 1)[1].lstrip('\n') if KEEP_MARKER in text else ''


def write_markdown(results, checks, path, png_name):
    info = results['machine']
    ping = results['ping_s']
    body = [
        '# Benchmarks',
        '',
        'Converging N Acronis accounts, 10% of which need a change, in the ways a playbook can do it, measured in one run of',
        '`tests/benchmarks/run.py` against the bundled API emulator (plain HTTP on 127.0.0.1, one process, in the same machine).',
        'Every figure is also given as a multiple of one `ansible.builtin.ping` task timed in the same run, so that the',
        'comparison holds on a faster or slower machine.',
        '',
        '- machine: %s, %s CPUs, %s; %s' % (info['cpu'], info['cpus'], info['memory'], info['os']),
        '- date: %s; Python %s; ansible-core %s; load average (1, 5, 15 min) %s at the start, %s at the end' % (
            info['date'], info['python'], info['ansible_core'], ', '.join('%.2f' % value for value in info['load_start']),
            ', '.join('%.2f' % value for value in info.get('load_end', ()))),
        '- one `ansible.builtin.ping` task (median of %d: %s): **%.3f s**; an empty playbook (start-up of ansible-playbook): %.2f s' % (
            len(results['ping_samples']), ', '.join('%.2f' % value for value in results['ping_samples']), ping, results['empty_s']),
        '- an empty playbook given the `users` variables file of (c) (start-up plus reading the input): %s' % (
            ', '.join('N = {:,}: {:.2f} s'.format(int(size), value) for size, value in sorted(results['input_s'].items(), key=lambda x: int(x[0])))
            or 'not run'),
        '',
        '![time per N, log scale](%s)' % png_name,
        '',
        '## Results',
        '',
        table(results),
        '',
        '- *wall*: the whole `ansible-playbook` process, start-up, inventory and (for a loop) result printing included.',
        '- *measured task(s)*: from the start of the measured task to the start of the next one (bench_timer callback);',
        '  for (a) the token, GET and PUT tasks together; for (e) the play\'s task over all hosts, inventory parsing excluded',
        '  (it is in *wall*).',
        '- *token / read / write*: requests in the emulator\'s log: `POST /idp/token`; `GET`; `PUT`. *expected*: whether they',
        '  are exactly what the design says (for (c): ceil(N/100) batch reads, one PUT per changed account, one token; the',
        '  re-check reuses the cached token).',
        '- *peak RSS, largest process*: `ru_maxrss` from `wait4()` on ansible-playbook, the largest of it and its workers;',
        '  *peak PSS, tree*: the summed proportional set size of ansible-playbook and all its children, sampled every 0.1 s.',
        '',
        '## Targets (issue 4)',
        '',
        TARGETS_DOC.rstrip('\n'),
    ]
    for check in checks:
        body.append('| %s | %s | %s |' % (check['target'], fmt_value(check['measured'], check['unit']), 'met' if check['ok'] else '**missed**'))
    body += [
        '',
        '## How to run',
        '',
        '```console',
        '$ make bench                                   # N = 100, 1,000, 10,000 (about 15 minutes on 2 cores); rewrites this page',
        '$ .venv/bin/python tests/benchmarks/run.py --quick   # N = 100 only, exits 1 on a failed run or a wrong request count',
        '$ .venv/bin/python tests/benchmarks/run.py --sizes 100,1000 --no-docs --json /tmp/bench.json',
        '```',
        '',
        'The chart is drawn with matplotlib from `tests/benchmarks/requirements.txt`, installed into `.cache/venv-bench`',
        'when the running Python lacks it. Each run\'s playbook, variables, output and timings stay in the work folder',
        'printed at the start (kept with `--keep`).',
        '',
        KEEP_MARKER,
        '',
    ]
    kept = kept_text(path)
    with open(path, 'w', encoding='utf-8') as handle:
        handle.write('\n'.join(body) + kept)


def draw_chart(results_json, png):
    script = os.path.join(HERE, 'plot.py')
    try:
        import matplotlib  # noqa: F401  pylint: disable=unused-import,import-outside-toplevel
        python = sys.executable
    except ImportError:
        venv = os.path.join(REPO, '.cache', 'venv-bench')
        python = os.path.join(venv, 'bin', 'python')
        if not os.path.exists(python):
            print('bench: installing matplotlib into %s (tests/benchmarks/requirements.txt)' % venv, flush=True)
            subprocess.run([sys.executable, '-m', 'venv', venv], check=True)
            subprocess.run([python, '-m', 'pip', 'install', '--quiet', '--disable-pip-version-check', '-r',
                            os.path.join(HERE, 'requirements.txt')], check=True)
    subprocess.run([python, script, results_json, png], check=True)


# -- main -------------------------------------------------------------------------------------------------------

def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n', maxsplit=1)[0])
    parser.add_argument('--quick', action='store_true', help='N = 100 only, no docs; exit 1 on a wrong request count')
    parser.add_argument('--sizes', default=None, help='comma-separated N values (default 100,1000,10000)')
    parser.add_argument('--no-docs', action='store_true', help='do not rewrite docs/benchmarks.md and docs/benchmarks.png')
    parser.add_argument('--json', default=None, help='also write the raw figures to this file')
    parser.add_argument('--keep', action='store_true', help='keep the work folder')
    parser.add_argument('--only', default=None,
                        help='comma-separated scenarios to run (uri_loop, contact_loop, cloud_users, cloud_user_info, '
                             'inventory_play, fifty_tasks); implies --no-docs')
    args = parser.parse_args(argv)
    only = set(args.only.split(',')) if args.only else None
    sizes = [100] if args.quick else [int(size) for size in (args.sizes or ','.join(map(str, SIZES))).split(',')]
    write_docs = not (args.quick or args.no_docs or only)

    def wanted_scenario(name):
        return only is None or name in only

    workdir = tempfile.mkdtemp(prefix='accountops-bench-')
    print('bench: work folder %s; N = %s' % (workdir, ', '.join('{:,}'.format(size) for size in sizes)), flush=True)
    bench = Bench(workdir, verbose=True)
    bench.start()
    results = {'machine': machine(), 'sizes': sizes, 'runs': [], 'input_s': {}}
    try:
        ping_samples = ping_unit(bench)
        empty = [empty_playbook(bench) for _index in range(3)]
        print('    ping task: %s s' % ', '.join('%.3f' % value for value in ping_samples), flush=True)
        for count in sizes:
            print('  N = {:,}'.format(count), flush=True)
            users = bench.reset(count)
            wanted = wanted_names(users)
            if count <= SLOW_MAX and wanted_scenario('uri_loop'):
                results['runs'].append(uri_loop(bench, count, wanted))
                bench.reset(count)
            if count <= SLOW_MAX and wanted_scenario('contact_loop'):
                results['runs'].append(contact_loop(bench, count, wanted))
                bench.reset(count)
            cache_home = os.path.join(workdir, 'xdg-%d' % count)
            if wanted_scenario('cloud_users'):
                results['input_s'][str(count)] = empty_playbook(bench, cloud_users_input(wanted))
                results['runs'].append(cloud_users(bench, count, wanted, cache_home, recheck=False))
                results['runs'].append(cloud_users(bench, count, wanted, cache_home, recheck=True))
            if wanted_scenario('cloud_user_info'):
                results['runs'].append(user_info(bench, count, cache_home))
            if count <= SLOW_MAX and wanted_scenario('inventory_play'):
                bench.reset(count)
                results['runs'].append(inventory_play(bench, count, wanted))
                results['runs'].append(template_floor(bench, count, wanted))
                results['runs'].append(host_floor(bench, count))
            if count == sizes[0] and wanted_scenario('fifty_tasks'):
                results['runs'].append(fifty_tasks(bench, bench.reset(max(count, 50))))
        # the ping unit again at the end: the median of both samples is the unit
        ping_samples += ping_unit(bench)
        empty.append(empty_playbook(bench))
    finally:
        bench.stop()
    results['machine']['load_end'] = os.getloadavg()
    results['ping_samples'] = ping_samples
    results['ping_s'] = statistics.median(ping_samples)
    results['empty_s'] = statistics.median(empty)
    checks = evaluate(results)
    results['checks'] = checks

    print()
    print(table(results))
    print()
    for check in checks:
        print('%-8s %s: %s' % ('met' if check['ok'] else 'MISSED', check['target'], fmt_value(check['measured'], check['unit'])))
    raw = json.dumps(results, indent=1, default=str)
    if args.json:
        with open(args.json, 'w', encoding='utf-8') as handle:
            handle.write(raw)
    if write_docs:
        results_json = os.path.join(workdir, 'results.json')
        with open(results_json, 'w', encoding='utf-8') as handle:
            handle.write(raw)
        png = os.path.join(REPO, 'docs', 'benchmarks.png')
        draw_chart(results_json, png)
        write_markdown(results, checks, os.path.join(REPO, 'docs', 'benchmarks.md'), 'benchmarks.png')
        print('bench: wrote docs/benchmarks.md and docs/benchmarks.png')
    if not args.keep:
        shutil.rmtree(workdir, ignore_errors=True)
    wrong = [run['label'] for run in results['runs'] if not run['requests_ok']]
    if wrong:
        print('bench: unexpected request counts in %s' % ', '.join(wrong))
        return 1
    return 0


if __name__ == '__main__':
    sys.exit(main())
