# Copyright: accountops.cloud maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Throughput of the emulator: GET and PUT /api/2/users/{id} with keep-alive sessions, 1 and 4 client threads.

    python tests/emulator/bench_emulator.py [--seconds 3] [--tls]

Needs `requests` (the dev virtualenv has it).
"""

import argparse
import http.client
import os
import ssl
import sys
import threading
import time

import requests

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import Emulator  # noqa: E402  pylint: disable=wrong-import-position

TENANT = '0b0e2f6c-1111-4a57-9d55-2f6a8d1e0c11'
CLIENT_ID = 'a5a1c0de-2222-4b70-8860-8db82bffab8e'
SECRET = 'bench-secret'


def bench_state():
    return {
        'tenants': [{'id': TENANT, 'parent_id': None, 'name': 'Bench MSP'}],
        'clients': [{'client_id': CLIENT_ID, 'client_secret': SECRET, 'tenant_id': TENANT}],
        'generate_users': {'count': 100, 'tenant_id': TENANT, 'login_prefix': 'bench', 'seed': 7},
        'config': {'request_log_max': 20000},
    }


def worker(base, token, verify, user_id, mode, stop, counts, index):
    session = requests.Session()
    session.headers['Authorization'] = f'Bearer {token}'
    url = f'{base}/api/2/users/{user_id}'
    done = 0
    version = session.get(url, verify=verify).json()['version']
    flip = False
    while not stop.is_set():
        if mode == 'GET':
            response = session.get(url, verify=verify)
        else:
            flip = not flip
            response = session.put(url, json={'version': version, 'contact': {'title': 'A' if flip else 'B'}}, verify=verify)
            version = response.json()['version']
        if response.status_code != 200:
            raise RuntimeError(f'{mode} {url}: {response.status_code} {response.text}')
        done += 1
    counts[index] = done


def raw_worker(base, token, verify, user_id, mode, stop, counts, index):
    """http.client without requests' per-call overhead: shows the server's own ceiling."""
    host_port = base.split('//', 1)[1]
    if base.startswith('https'):
        conn = http.client.HTTPSConnection(host_port, context=ssl.create_default_context(cafile=verify))
    else:
        conn = http.client.HTTPConnection(host_port)
    headers = {'Authorization': f'Bearer {token}'}
    done = 0
    while not stop.is_set():
        conn.request(mode, f'/api/2/users/{user_id}', headers=headers)
        response = conn.getresponse()
        response.read()
        if response.status != 200:
            raise RuntimeError(f'{mode}: {response.status}')
        done += 1
    counts[index] = done


def run(base, token, verify, user_ids, mode, threads, seconds, target=worker):
    stop = threading.Event()
    counts = [0] * threads
    pool = [threading.Thread(target=target, args=(base, token, verify, user_ids[i], mode, stop, counts, i)) for i in range(threads)]
    start = time.perf_counter()
    for thread in pool:
        thread.start()
    time.sleep(seconds)
    stop.set()
    for thread in pool:
        thread.join()
    return sum(counts) / (time.perf_counter() - start)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--seconds', type=float, default=3.0)
    parser.add_argument('--tls', action='store_true', help='measure over HTTPS instead of plain HTTP')
    args = parser.parse_args(argv)
    with Emulator(tls=args.tls) as emu:
        emu.reset(bench_state())
        base = emu.https_url if args.tls else emu.url
        verify = emu.ca_file if args.tls else True
        token = requests.post(f'{base}/api/2/idp/token', data={'grant_type': 'client_credentials'},
                              auth=(CLIENT_ID, SECRET), verify=verify).json()['access_token']
        user_ids = [user['id'] for user in emu.state()['users']]
        print(f'emulator {base}, {os.cpu_count()} CPUs, {args.seconds:.0f} s per run')
        for mode in ('GET', 'PUT'):
            for threads in (1, 4):
                emu.clear_requests()
                rate = run(base, token, verify, user_ids, mode, threads, args.seconds)
                print(f'{mode:<4} /api/2/users/{{id}}  requests.Session, {threads} client thread(s): {rate:8.0f} requests/s')
        for threads in (1, 2):
            emu.clear_requests()
            rate = run(base, token, verify, user_ids, 'GET', threads, args.seconds, target=raw_worker)
            print(f'GET  /api/2/users/{{id}}  http.client,      {threads} client thread(s): {rate:8.0f} requests/s')
    return 0


if __name__ == '__main__':
    sys.exit(main())
