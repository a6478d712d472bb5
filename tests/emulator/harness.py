# Copyright: accountops.cloud maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Start, drive and stop the API emulator (server.py) from tests, demos and benchmarks.

    from tests.emulator.harness import Emulator
    with Emulator(tls=True) as emu:
        emu.reset(state)
        ... point a module at emu.cloud_url / emu.https_url (CA in emu.ca_file) ...

Command line, for a Makefile:
    python tests/emulator/harness.py serve --state tests/emulator/demo_state.json [--tls] --ready-file F
    python tests/emulator/harness.py stop --ready-file F

Needs only the standard library, plus `cryptography` when tls=True.
"""

import argparse
import datetime
import ipaddress
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
SERVER = os.path.join(HERE, 'server.py')
DEMO_STATE = os.path.join(HERE, 'demo_state.json')
START_TIMEOUT = 20.0


class EmulatorError(Exception):
    """A control call failed, or the server did not start."""


def generate_certificates(workdir):
    """Write a CA, a server certificate for 127.0.0.1/localhost signed by it, and a second unrelated CA.

    Returns a dict of PEM file paths: ca_file, cert_file, key_file, other_ca_file.
    """
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    now = datetime.datetime.now(datetime.timezone.utc)
    not_before = now - datetime.timedelta(days=1)
    not_after = now + datetime.timedelta(days=365)

    def make_ca(common_name):
        key = ec.generate_private_key(ec.SECP256R1())
        name = x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, 'accountops emulator'),
                          x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
        ski = x509.SubjectKeyIdentifier.from_public_key(key.public_key())
        cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
                .serial_number(x509.random_serial_number()).not_valid_before(not_before).not_valid_after(not_after)
                .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
                .add_extension(x509.KeyUsage(digital_signature=False, content_commitment=False, key_encipherment=False,
                                             data_encipherment=False, key_agreement=False, key_cert_sign=True, crl_sign=True,
                                             encipher_only=False, decipher_only=False), critical=True)
                .add_extension(ski, critical=False)
                .sign(key, hashes.SHA256()))
        return key, cert

    ca_key, ca_cert = make_ca('accountops emulator test CA')
    _other_key, other_cert = make_ca('accountops unrelated CA')

    key = ec.generate_private_key(ec.SECP256R1())
    cert = (x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, 'localhost')]))
            .issuer_name(ca_cert.subject).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(not_before).not_valid_after(not_after)
            .add_extension(x509.SubjectAlternativeName([x509.DNSName('localhost'),
                                                        x509.IPAddress(ipaddress.ip_address('127.0.0.1'))]), critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=False, key_encipherment=False,
                                         data_encipherment=False, key_agreement=False, key_cert_sign=False, crl_sign=False,
                                         encipher_only=False, decipher_only=False), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
            .sign(ca_key, hashes.SHA256()))

    paths = {
        'ca_file': os.path.join(workdir, 'ca.pem'),
        'cert_file': os.path.join(workdir, 'server.pem'),
        'key_file': os.path.join(workdir, 'server-key.pem'),
        'other_ca_file': os.path.join(workdir, 'other-ca.pem'),
    }
    pem = serialization.Encoding.PEM
    with open(paths['ca_file'], 'wb') as handle:
        handle.write(ca_cert.public_bytes(pem))
    with open(paths['other_ca_file'], 'wb') as handle:
        handle.write(other_cert.public_bytes(pem))
    with open(paths['cert_file'], 'wb') as handle:
        handle.write(cert.public_bytes(pem))
    with open(paths['key_file'], 'wb') as handle:
        handle.write(key.private_bytes(pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    os.chmod(paths['key_file'], 0o600)
    return paths


def request_kinds(log):
    """Cloud-API requests of a request log by kind: token, read (GET), write (anything else), and errors (>= 400)."""
    counts = {'token': 0, 'read': 0, 'write': 0, 'errors': 0}
    for entry in log:
        if entry.get('api') != 'cloud':
            continue
        if entry['path'].endswith('/idp/token'):
            counts['token'] += 1
        elif entry['method'] == 'GET':
            counts['read'] += 1
        else:
            counts['write'] += 1
        if entry['status'] >= 400:
            counts['errors'] += 1
    return counts


def read_json(path):
    with open(path, encoding='utf-8') as handle:
        return json.load(handle)


class Emulator:
    """One emulator server process plus a thin client for its /_emulator control API."""

    def __init__(self, tls=False, workdir=None, extra_args=(), state=None):
        self.tls = tls
        self.extra_args = list(extra_args)
        self.initial_state = state
        self._own_workdir = workdir is None
        self.workdir = workdir
        self.proc = None
        self.url = None
        self.https_url = None
        self.ca_file = None
        self.other_ca_file = None
        self.log_path = None
        self._log = None

    # -- lifecycle ---------------------------------------------------------------------------------------------

    @property
    def cloud_url(self):
        """The base_url a cloud module gets; the module appends /api/2 itself."""
        return self.url

    @property
    def pid(self):
        return self.proc.pid if self.proc else None

    def start(self):
        if self.proc is not None:
            return self
        if self.workdir is None:
            self.workdir = tempfile.mkdtemp(prefix='accountops-emulator-')
        os.makedirs(self.workdir, exist_ok=True)
        ready = os.path.join(self.workdir, f'ready-{os.getpid()}-{threading.get_ident()}-{time.monotonic_ns()}.json')
        cmd = [sys.executable, SERVER, '--host', '127.0.0.1', '--http-port', '0', '--ready-file', ready, '--exit-with-parent']
        if self.tls:
            certs = generate_certificates(self.workdir)
            self.ca_file = certs['ca_file']
            self.other_ca_file = certs['other_ca_file']
            cmd += ['--https-port', '0', '--cert', certs['cert_file'], '--key', certs['key_file']]
        cmd += self.extra_args
        self.log_path = os.path.join(self.workdir, 'emulator.log')
        self._log = open(self.log_path, 'ab')
        self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=self._log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            if os.path.exists(ready):
                info = read_json(ready)
                break
            if self.proc.poll() is not None:
                tail = self.log_tail()
                self._cleanup()
                raise EmulatorError(f'emulator exited with {self.proc.returncode} before it was ready: {tail}')
            if time.monotonic() > deadline:
                tail = self.log_tail()
                self.stop()
                raise EmulatorError(f'emulator not ready after {START_TIMEOUT:.0f} s: {tail}')
            time.sleep(0.02)
        self.url = info['http']
        self.https_url = info.get('https')
        if self.initial_state is not None:
            self.reset(self.initial_state)
        return self

    def stop(self):
        if self.proc is not None:
            if self.proc.poll() is None:
                self.proc.terminate()
                try:
                    self.proc.wait(5)
                except subprocess.TimeoutExpired:
                    self.proc.kill()
                    self.proc.wait(5)
        self._cleanup()

    def _cleanup(self):
        if self._log is not None:
            self._log.close()
            self._log = None
        if self._own_workdir and self.workdir and os.path.isdir(self.workdir):
            shutil.rmtree(self.workdir, ignore_errors=True)

    def log_tail(self, size=4000):
        try:
            with open(self.log_path, 'rb') as handle:
                return handle.read()[-size:].decode('utf-8', 'replace')
        except (OSError, TypeError):
            return ''

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc_info):
        self.stop()

    # -- control API -------------------------------------------------------------------------------------------

    def control(self, method, path, body=None, query=None):
        if self.url is None:
            raise EmulatorError('emulator is not started')
        url = f'{self.url}/_emulator{path}'
        if query:
            url += '?' + urllib.parse.urlencode(query)
        data = None if body is None else json.dumps(body).encode('utf-8')
        request = urllib.request.Request(url, data=data, method=method, headers={'Content-Type': 'application/json'})
        try:
            with urllib.request.urlopen(request, timeout=60) as response:
                return json.loads(response.read() or b'null')
        except urllib.error.HTTPError as exc:
            raise EmulatorError(f'{method} {path}: HTTP {exc.code}: {exc.read().decode("utf-8", "replace")}')

    def reset(self, state):
        self.control('POST', '/reset', state)

    def reset_file(self, path=DEMO_STATE):
        self.reset(read_json(path))

    def requests(self, api=None):
        """Request log entries of the emulated APIs (control calls are never logged)."""
        return self.control('GET', '/requests', query={'api': api} if api else None)['requests']

    def clear_requests(self):
        self.control('DELETE', '/requests')

    def outbox(self):
        return self.control('GET', '/outbox')['mails']

    def clear_outbox(self):
        self.control('DELETE', '/outbox')

    def confirm_email(self, user_id):
        return self.control('POST', f'/users/{user_id}/confirm-email')

    def add_fault(self, **rule):
        return self.control('POST', '/faults', rule)['faults'][0]

    def clear_faults(self):
        self.control('DELETE', '/faults')

    def faults(self):
        return self.control('GET', '/faults')['faults']

    def state(self):
        return self.control('GET', '/state')

    def user(self, user_id):
        """The stored user, plus its pending_email (never shown by the API)."""
        return self.control('GET', f'/users/{user_id}')

    def patch_user(self, user_id, patch):
        return self.control('PATCH', f'/users/{user_id}', patch)

    def set_config(self, **config):
        return self.control('POST', '/config', config)


# ----------------------------------------------------------------------------------------------------------------
# Command line

def write_json_atomic(path, data):
    tmp = f'{path}.tmp.{os.getpid()}'
    with open(tmp, 'w', encoding='utf-8') as handle:
        json.dump(data, handle, indent=2)
    os.replace(tmp, path)


def cmd_serve(args):
    state = read_json(args.state) if args.state else None
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_args: stop.set())
    emu = Emulator(tls=args.tls, workdir=args.workdir, state=state).start()
    try:
        write_json_atomic(args.ready_file, {
            'http': emu.url, 'https': emu.https_url, 'pid': os.getpid(), 'server_pid': emu.pid,
            'ca_file': emu.ca_file, 'other_ca_file': emu.other_ca_file, 'workdir': emu.workdir, 'log': emu.log_path,
        })
        while not stop.wait(0.5):
            if emu.proc.poll() is not None:
                sys.stderr.write(f'emulator exited unexpectedly: {emu.log_tail()}\n')
                return 1
    finally:
        emu.stop()
        try:
            os.unlink(args.ready_file)
        except OSError:
            pass
    return 0


def process_alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        with open(f'/proc/{pid}/stat', encoding='ascii') as handle:
            return handle.read().rsplit(')', 1)[1].split()[0] != 'Z'  # a zombie has exited already
    except (OSError, IndexError):
        return True


def cmd_stop(args):
    try:
        info = read_json(args.ready_file)
    except (OSError, ValueError):
        print(f'no emulator running ({args.ready_file} not found)')
        return 0
    pid = int(info['pid'])
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        pass
    deadline = time.monotonic() + args.timeout
    while time.monotonic() < deadline:
        # serve removes its ready file as the last step of a clean shutdown
        if not os.path.exists(args.ready_file) or not process_alive(pid):
            break
        time.sleep(0.05)
    else:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    try:
        os.unlink(args.ready_file)
    except OSError:
        pass
    return 0


def main(argv=None):
    parser = argparse.ArgumentParser(description='run the accountops.cloud API emulator')
    sub = parser.add_subparsers(dest='command', required=True)
    serve = sub.add_parser('serve', help='start the emulator and keep it running until SIGTERM')
    serve.add_argument('--state', default=DEMO_STATE, help='state JSON to load (default: demo_state.json)')
    serve.add_argument('--tls', action='store_true', help='also listen on HTTPS with a generated CA')
    serve.add_argument('--ready-file', required=True, help='written once the emulator answers')
    serve.add_argument('--workdir', default=None, help='where certificates and the log go (default: a temp dir)')
    stop = sub.add_parser('stop', help='stop an emulator started with serve')
    stop.add_argument('--ready-file', required=True)
    stop.add_argument('--timeout', type=float, default=10.0)
    args = parser.parse_args(argv)
    return cmd_serve(args) if args.command == 'serve' else cmd_stop(args)


if __name__ == '__main__':
    sys.exit(main())
