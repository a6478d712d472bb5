# Copyright: accountops.cloud maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Local emulator of the Acronis account API, Huawei IAM tokens and CodeArts Repo user emails.

One process, one in-memory state, served on a plain HTTP port and optionally an HTTPS port.
Paths: /api/2/... (cloud), /v3/auth/tokens (IAM), /v4/... (CodeArts), /_emulator/... (control).
Only the Python standard library and jsonschema are needed.  See README.md next to this file.
"""

import argparse
import base64
import binascii
import collections
import copy
import datetime
import email.utils
import hashlib
import json
import os
import random
import re
import secrets
import signal
import socket
import ssl
import string
import struct
import sys
import threading
import time
import traceback
import uuid
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, unquote, urlsplit

import jsonschema
from jsonschema.exceptions import best_match

HERE = os.path.dirname(os.path.abspath(__file__))
SPEC_NAME = 'acronis-account-management-v2-openapi.json'
CLOUD_PREFIX = '/api/2'
CONTROL_PREFIX = '/_emulator'
DOMAIN = 'PlatformAccountServer'
REDACTED = '********'
UUID_RE = re.compile(r'^[0-9a-f]{8}-([0-9a-f]{4}-){3}[0-9a-f]{12}$')
CONTACT_NS = uuid.UUID('6f1c1d8e-3b0a-4a57-9d55-2f6a8d1e0c11')
DEFAULT_IDP_ID = '11111111-1111-1111-1111-111111111111'
CONTACT_STRING_FIELDS = (
    'email', 'address1', 'address2', 'country', 'state', 'city', 'zipcode', 'phone', 'firstname', 'lastname',
    'title', 'website', 'industry', 'organization_size', 'aan', 'fax', 'language',
)
# contactPut keys that name other objects; accepted but not stored in the contact.
CONTACT_REFERENCE_KEYS = ('tenant_id', 'user_id')
USER_PUT_FIELDS = ('login', 'external_id', 'idp_id', 'enabled', 'language', 'notifications', 'disable_after')
DEFAULT_NOTIFICATIONS = ['quota', 'reports', 'backup_daily_report']
LOGIN_RE = re.compile(r"^[A-Za-z0-9.@_\-+:!#$%^*={}'`/?]{3,}$")
COMMIT_EMAIL_RE = re.compile(r'^[^@\s]+@[^@\s]+\.[^@\s]+$')
CODE_ALPHABET = string.ascii_uppercase + string.digits
SECRET_KEYS = frozenset((
    'client_secret', 'password', 'verify_code', 'access_token', 'refresh_token', 'id_token', 'token',
    'assertion', 'code', 'device_code', 'totp_code', 'code_verifier', 'secret',
))
UNLOGGED_HEADERS = frozenset(('authorization', 'x-auth-token', 'cookie', 'proxy-authorization', 'x-security-token', 'x-subject-token'))
FAULT_KINDS = ('status', 'reset', 'latency', 'html', 'empty', 'invalid_json', 'huge', 'concurrent_modification')
HUGE_BODY_BYTES = 20 * 1024 * 1024

DEFAULT_CONFIG = {
    'token_ttl': 7200,
    'search_default_limit': 10,
    'users_default_limit': 2000,
    'uuids_max': 100,
    'conflict_status': 409,
    'noop_put_bumps_version': False,
    'iam_token_ttl': 86400,
    'verify_code_ttl': 600,
    'request_log_max': 50000,
    'max_body_bytes': 10 * 1024 * 1024,
}

LOD_STAMPS = ('id', 'version', 'tenant_id', 'created_at', 'updated_at', 'deleted_at', 'access_policies', 'origin_id',
              'origin_external_id', 'disable_after')
LOD_BASIC = LOD_STAMPS + ('personal_tenant_id', 'login', 'enabled', 'session_mfa_status', 'delivery_channel')
LOD_FULL = LOD_BASIC + ('contact', 'activated', 'language', 'business_types', 'notifications', 'idp_id', 'external_id',
                        'mfa_status', 'external_operation_status')
# Fields the batch schemas require even when null; elsewhere a null value of these is left out,
# because the single-user schema types them as non-nullable strings.
BATCH_REQUIRED_NULLABLE = frozenset(('deleted_at', 'origin_id', 'origin_external_id', 'disable_after', 'personal_tenant_id'))
SINGLE_USER_FIELDS = ('id', 'version', 'tenant_id', 'login', 'contact', 'activated', 'enabled', 'created_at', 'updated_at',
                      'deleted_at', 'language', 'idp_id', 'external_id', 'origin_id', 'origin_external_id', 'disable_after',
                      'personal_tenant_id', 'business_types', 'notifications', 'mfa_status', 'session_mfa_status',
                      'external_operation_status', 'terms_accepted')
SINGLE_USER_KEEP_NULL = frozenset(('deleted_at', 'personal_tenant_id'))


# ----------------------------------------------------------------------------------------------------------------
# Time helpers

_clock_lock = threading.Lock()
_last_stamp = [0.0]


def unique_now():
    """Current time, strictly increasing between calls, so updated_at always moves on."""
    with _clock_lock:
        now = max(time.time(), _last_stamp[0] + 0.000001)
        _last_stamp[0] = now
        return now


def cloud_stamp(ts=None):
    """RFC3339 as the account API prints it: 2019-07-25T07:11:02.807354+00:00 (matches the spec's item1 pattern)."""
    ts = unique_now() if ts is None else ts
    return datetime.datetime.fromtimestamp(ts, datetime.timezone.utc).strftime('%Y-%m-%dT%H:%M:%S.%f') + '+00:00'


def iam_stamp(ts):
    return datetime.datetime.fromtimestamp(ts, datetime.timezone.utc).strftime('%Y-%m-%dT%H:%M:%S.%fZ')


def codearts_stamp(ts=None):
    """CodeArts prints Beijing time with milliseconds: 2025-03-27T14:17:11.000+08:00."""
    ts = time.time() if ts is None else ts
    dt = datetime.datetime.fromtimestamp(ts, datetime.timezone(datetime.timedelta(hours=8)))
    return dt.strftime('%Y-%m-%dT%H:%M:%S.') + f'{dt.microsecond // 1000:03d}+08:00'


def parse_rfc3339(value):
    text = value.strip().replace('Z', '+00:00').replace('z', '+00:00')
    dt = datetime.datetime.fromisoformat(text)
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=datetime.timezone.utc)
    return dt.timestamp()


def stable_hex(*parts):
    return hashlib.sha256('/'.join(str(p) for p in parts).encode('utf-8')).hexdigest()[:32]


# ----------------------------------------------------------------------------------------------------------------
# OpenAPI -> precompiled jsonschema validators

class SpecError(Exception):
    pass


class SchemaCompiler:
    """Turns OpenAPI 3.0 schema objects into self-contained Draft 4 JSON schemas."""

    SKIP = frozenset(('example', 'examples', 'description', 'title', 'xml', 'externalDocs', 'deprecated', 'discriminator',
                      'readOnly', 'writeOnly', 'nullable', 'default'))
    NESTED_ONE = ('items', 'additionalProperties', 'not')
    NESTED_LIST = ('allOf', 'anyOf', 'oneOf')

    def __init__(self, spec):
        self.spec = spec

    def resolve_ref(self, ref):
        if not ref.startswith('#/'):
            raise SpecError(f'only local $ref is supported: {ref}')
        node = self.spec
        for part in ref[2:].split('/'):
            node = node[part.replace('~1', '/').replace('~0', '~')]
        return node

    def convert(self, node, stack=()):
        if not isinstance(node, dict):
            return node
        if '$ref' in node:
            ref = node['$ref']
            if ref in stack:
                return {}
            return self.convert(self.resolve_ref(ref), stack + (ref,))
        out = {}
        for key, value in node.items():
            if key in self.SKIP or key.startswith('x-'):
                continue
            if key == 'properties':
                out[key] = {name: self.convert(sub, stack) for name, sub in value.items()}
            elif key in self.NESTED_ONE and isinstance(value, dict):
                out[key] = self.convert(value, stack)
            elif key in self.NESTED_LIST:
                out[key] = [self.convert(sub, stack) for sub in value]
            else:
                out[key] = value
        if node.get('nullable'):
            out = self.make_nullable(out)
        return out

    @staticmethod
    def make_nullable(schema):
        # OpenAPI 3.0 nullable: add null to the type; wrap when the type lives in a sub-schema (nullable + allOf).
        if 'type' in schema and not any(k in schema for k in ('allOf', 'anyOf', 'oneOf')):
            types = schema['type'] if isinstance(schema['type'], list) else [schema['type']]
            schema = dict(schema, type=types + ['null'])
            if 'enum' in schema:
                schema['enum'] = list(schema['enum']) + [None]
            return schema
        return {'anyOf': [{'type': 'null'}, schema]}


class Operation:
    """Precompiled validators for one operation: path parameters, query parameters and request bodies."""

    def __init__(self, compiler, path, method):
        item = compiler.spec['paths'][path]
        op = item[method]
        self.op_id = op.get('operationId', f'{method} {path}')
        params = {}
        for param in item.get('parameters', []) + op.get('parameters', []):
            if '$ref' in param:
                param = compiler.resolve_ref(param['$ref'])
            params[(param['in'], param['name'])] = param
        self.validators = {}
        self.types = {}
        for location in ('path', 'query'):
            props = {}
            required = []
            for (where, name), param in params.items():
                if where != location:
                    continue
                schema = compiler.convert(param.get('schema', {}))
                props[name] = schema
                self.types[(location, name)] = schema.get('type')
                if param.get('required'):
                    required.append(name)
            schema = {'type': 'object', 'properties': props}
            if required:
                schema['required'] = required
            self.validators[location] = jsonschema.Draft4Validator(schema)
        self.bodies = {}
        for ctype, media in (op.get('requestBody') or {}).get('content', {}).items():
            if 'schema' in media:
                self.bodies[ctype] = jsonschema.Draft4Validator(compiler.convert(media['schema']))

    def coerce(self, location, values):
        """Query and path values arrive as strings; convert the ones the spec types as numbers or booleans."""
        out = {}
        for name, value in values.items():
            kind = self.types.get((location, name))
            if kind == 'integer' and re.match(r'^-?\d+$', value):
                value = int(value)
            elif kind == 'number':
                try:
                    value = float(value)
                except ValueError:
                    pass
            elif kind == 'boolean' and value.lower() in ('true', 'false'):
                value = value.lower() == 'true'
            out[name] = value
        return out

    def check_params(self, location, values):
        """Return (coerced values, error text or None)."""
        coerced = self.coerce(location, values)
        return coerced, first_error(self.validators[location], coerced, f'{location} parameter')

    def check_body(self, ctype, body):
        validator = self.bodies.get(ctype)
        if validator is None:
            return None
        return first_error(validator, body, 'body')


def first_error(validator, instance, where):
    errors = list(validator.iter_errors(instance))
    if not errors:
        return None
    err = best_match(errors)
    field = '.'.join(str(p) for p in err.absolute_path)
    message = err.message if len(err.message) <= 300 else err.message[:300] + '...'
    if field:
        return f"{where} '{field}': {message}"
    return f'{where}: {message}'


CLOUD_OPERATIONS = {
    'RequestTokens': ('/idp/token', 'post'),
    'FetchClient': ('/clients/{client_id}', 'get'),
    'FetchUser': ('/users/{user_id}', 'get'),
    'UpdateUser': ('/users/{user_id}', 'put'),
    'DeleteUser': ('/users/{user_id}', 'delete'),
    'FetchUsersBatch': ('/users', 'get'),
    'Search': ('/search', 'get'),
    'FetchTenantUsers': ('/tenants/{tenant_id}/users', 'get'),
    'SendActivationEmail': ('/users/{user_id}/send-activation-email', 'post'),
    'SetUserPassword': ('/users/{user_id}/password', 'post'),
}


def default_spec_path():
    env = os.environ.get('ACCOUNTOPS_OPENAPI_SPEC')
    if env:
        return env
    local = os.path.join(HERE, SPEC_NAME)
    if os.path.exists(local):
        return local
    repo = os.path.dirname(os.path.dirname(HERE))
    return os.path.join(os.path.dirname(repo), 'shared', 'api-specs', SPEC_NAME)


def load_operations(spec_path):
    with open(spec_path, encoding='utf-8') as handle:
        spec = json.load(handle)
    compiler = SchemaCompiler(spec)
    return {name: Operation(compiler, path, method) for name, (path, method) in CLOUD_OPERATIONS.items()}


# ----------------------------------------------------------------------------------------------------------------
# Replies and errors

class Reply:
    __slots__ = ('status', 'obj', 'raw', 'headers', 'content_type', 'abort', 'sleep')

    def __init__(self, status, obj=None, raw=None, headers=None, content_type='application/json'):
        self.status = status
        self.obj = obj
        self.raw = raw
        self.headers = headers or []
        self.content_type = content_type
        self.abort = False
        self.sleep = 0.0

    def body(self):
        if self.raw is not None:
            return self.raw
        if self.obj is None:
            return b''
        return json.dumps(self.obj, separators=(',', ':')).encode('utf-8')


class ApiError(Exception):
    def __init__(self, reply):
        super().__init__(reply.status)
        self.reply = reply


def reason(status):
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return 'Error'


def cloud_error(status, info, message=None, code=None, headers=None):
    return ApiError(Reply(status, {'error': {
        'code': status if code is None else code,
        'message': message or reason(status),
        'details': {'info': info},
        'context': {},
        'domain': DOMAIN,
    }}, headers=headers))


def token_error(status, error, description):
    return ApiError(Reply(status, {'error': error, 'error_description': description},
                          headers=[('Cache-Control', 'no-store'), ('Pragma', 'no-cache')]))


def codearts_error(status, code, message, request_id=None):
    body = {'error_code': code, 'error_msg': message}
    if request_id:
        body['request_id'] = request_id
    return ApiError(Reply(status, body))


def iam_error(status, message):
    return ApiError(Reply(status, {'error': {'code': status, 'message': message, 'title': reason(status)}}))


def control_error(status, message):
    return ApiError(Reply(status, {'error': message}))


# ----------------------------------------------------------------------------------------------------------------
# Request

class Request:
    __slots__ = ('method', 'path', 'query', 'headers', 'body', 'api', 'request_id', 'params', 'client_ip')

    def __init__(self, method, path, query, headers, body, client_ip):
        self.method = method
        self.path = path
        self.query = query
        self.headers = headers
        self.body = body
        self.api = None
        self.request_id = uuid.uuid4().hex
        self.params = {}
        self.client_ip = client_ip

    def q(self, name):
        values = self.query.get(name)
        return values[-1] if values else None

    def flat_query(self):
        return {key: values[-1] for key, values in self.query.items()}

    def content_type(self):
        return (self.headers.get('Content-Type') or '').split(';', 1)[0].strip().lower()

    def json(self, on_error):
        try:
            return json.loads(self.body.decode('utf-8'))
        except (UnicodeDecodeError, ValueError) as exc:
            raise on_error(f'request body is not valid JSON: {exc}')

    def form(self):
        try:
            parsed = parse_qs(self.body.decode('utf-8'), keep_blank_values=True)
        except UnicodeDecodeError:
            return {}
        return {key: values[-1] for key, values in parsed.items()}


def accepts_json(accept):
    if not accept:
        return True
    for item in accept.split(','):
        media, *params = [part.strip().lower() for part in item.split(';')]
        quality = 1.0
        for param in params:
            if param.startswith('q='):
                try:
                    quality = float(param[2:])
                except ValueError:
                    pass
        if quality > 0 and (media in ('*/*', 'application/*', 'application/json') or media.endswith('+json')):
            return True
    return False


def redact(value):
    if isinstance(value, dict):
        out = {}
        for key, item in value.items():
            if isinstance(key, str) and key.lower() in SECRET_KEYS and not isinstance(item, (dict, list)):
                out[key] = REDACTED
            else:
                out[key] = redact(item)
        return out
    if isinstance(value, list):
        return [redact(item) for item in value]
    return value


def body_for_log(req):
    if not req.body:
        return None
    ctype = req.content_type()
    if ctype == 'application/x-www-form-urlencoded':
        return redact(req.form())
    try:
        return redact(json.loads(req.body.decode('utf-8')))
    except (UnicodeDecodeError, ValueError):
        text = req.body[:2000].decode('utf-8', 'replace')
        return text


# ----------------------------------------------------------------------------------------------------------------
# State

class Emulator:
    """All state plus the API logic. Handlers run under self.lock."""

    def __init__(self, operations):
        self.ops = operations
        self.lock = threading.RLock()
        self.log_seq = 0
        self.request_log = collections.deque()
        self.outbox = []
        self.mail_seq = 0
        self.faults = []
        self.fault_seq = 0
        self.reset({})

    # -- state -----------------------------------------------------------------------------------------------

    def reset(self, state):
        if not isinstance(state, dict):
            raise control_error(400, 'state must be a JSON object')
        config = dict(DEFAULT_CONFIG)
        config.update(state.get('config') or {})
        tenants = {}
        for raw in state.get('tenants') or []:
            tenant = {'id': raw['id'], 'parent_id': raw.get('parent_id'), 'name': raw.get('name') or raw['id'],
                      'kind': raw.get('kind'), 'deleted_at': raw.get('deleted_at')}
            tenants[tenant['id']] = tenant
        for tenant in tenants.values():
            if tenant['parent_id'] and tenant['parent_id'] not in tenants:
                raise control_error(400, f"tenant {tenant['id']}: unknown parent_id {tenant['parent_id']}")
        ancestors = {}
        for tid in tenants:
            chain = []
            cur = tid
            while cur and cur not in chain:
                chain.append(cur)
                cur = tenants[cur]['parent_id']
            ancestors[tid] = chain
        for tenant in tenants.values():
            if not tenant['kind']:
                depth = len(ancestors[tenant['id']])
                tenant['kind'] = {1: 'partner', 2: 'customer'}.get(depth, 'unit')
        clients = {}
        for raw in state.get('clients') or []:
            if raw.get('tenant_id') not in tenants:
                raise control_error(400, f"client {raw.get('client_id')}: unknown tenant_id {raw.get('tenant_id')}")
            client = {'client_id': raw['client_id'], 'client_secret': raw['client_secret'], 'tenant_id': raw['tenant_id'],
                      'status': raw.get('status', 'enabled'), 'type': raw.get('type', 'api_client'),
                      'token_endpoint_auth_method': raw.get('token_endpoint_auth_method', 'client_secret_basic'),
                      'created_at': raw.get('created_at') or '2024-01-01T00:00:00+00:00',
                      'created_by': raw.get('created_by') or str(uuid.UUID(stable_hex('creator', raw['client_id']))),
                      'client_name': raw.get('client_name', 'accountops'), 'last_access_at': None,
                      'last_access_from_ip': None}
            clients[client['client_id']] = client

        self.config = config
        self.tenants = tenants
        self.ancestors = ancestors
        self.clients = clients
        self.users = {}
        self.user_seq = {}
        self.pending_email = {}
        self.tokens = {}
        self.next_user_seq = 0
        now = cloud_stamp()
        for raw in state.get('users') or []:
            self.add_user(self.build_user(raw, now))
        generate = state.get('generate_users')
        for spec in ([generate] if isinstance(generate, dict) else generate or []):
            for user in self.generate_users(spec, now):
                self.add_user(user)
        self.reset_codearts(state.get('codearts') or {})
        self.outbox = []
        self.faults = []
        self.request_log = collections.deque(maxlen=int(config['request_log_max']))

    def add_user(self, user):
        if user['tenant_id'] not in self.tenants:
            raise control_error(400, f"user {user['id']}: unknown tenant_id {user['tenant_id']}")
        if user['id'] in self.users:
            raise control_error(400, f"duplicate user id {user['id']}")
        self.users[user['id']] = user
        self.user_seq[user['id']] = self.next_user_seq
        self.next_user_seq += 1

    def build_user(self, raw, now):
        raw = dict(raw)
        pending = raw.pop('pending_email', None)
        uid = raw.get('id') or str(uuid.uuid4())
        contact_in = raw.pop('contact', None) or {}
        tenant_id = raw.get('tenant_id') or (next(iter(self.tenants)) if self.tenants else None)
        contact = {'id': str(uuid.uuid5(CONTACT_NS, uid)), 'created_at': raw.get('created_at', now),
                   'updated_at': raw.get('updated_at', now), 'types': []}
        contact.update({field: '' for field in CONTACT_STRING_FIELDS})
        contact['email_confirmed'] = False
        contact['deleted_at'] = None
        contact.update(contact_in)
        user = {
            'id': uid, 'version': 1, 'tenant_id': tenant_id,
            'login': contact.get('email') or f'user-{uid[:8]}',
            'contact': contact, 'activated': False, 'enabled': True,
            'created_at': now, 'updated_at': now, 'deleted_at': None, 'language': 'en',
            'idp_id': DEFAULT_IDP_ID, 'external_id': None, 'origin_id': None, 'origin_external_id': None,
            'disable_after': None, 'personal_tenant_id': None, 'business_types': [],
            'notifications': list(DEFAULT_NOTIFICATIONS), 'mfa_status': 'disabled',
            'session_mfa_status': 'passed_or_not_required', 'external_operation_status': None,
            'terms_accepted': False, 'delivery_channel': 'email',
        }
        user.update(raw)
        user['id'] = uid
        user['tenant_id'] = tenant_id
        if pending:
            self.pending_email[uid] = pending
        return user

    def generate_users(self, spec, now):
        count = int(spec.get('count', 0))
        tenant_id = spec.get('tenant_id') or (next(iter(self.tenants)) if self.tenants else None)
        prefix = spec.get('login_prefix', 'user')
        every = int(spec.get('activated_every', 0) or 0)
        disabled_every = int(spec.get('disabled_every', 0) or 0)
        domain = spec.get('email_domain', 'example.com')
        rng = random.Random(spec.get('seed', 1))
        width = max(5, len(str(count)))
        first_names = ('Anna', 'Ben', 'Chloe', 'David', 'Emma', 'Felix', 'Grace', 'Hugo', 'Ines', 'Jonas', 'Karin', 'Liam')
        last_names = ('Novak', 'Schmidt', 'Garcia', 'Rossi', 'Dubois', 'Nielsen', 'Kowalski', 'Silva', 'Meyer', 'Tanaka')
        users = []
        for index in range(1, count + 1):
            uid = str(uuid.UUID(int=rng.getrandbits(128), version=4))
            login = f'{prefix}{index:0{width}d}'
            raw = {
                'id': uid, 'tenant_id': tenant_id, 'login': login,
                'activated': bool(every) and index % every == 0,
                'enabled': not (disabled_every and index % disabled_every == 0),
                'contact': {'email': f'{login}@{domain}', 'firstname': rng.choice(first_names), 'lastname': rng.choice(last_names)},
            }
            users.append(self.build_user(raw, now))
        return users

    def reset_codearts(self, state):
        self.iam_users = {}
        for raw in state.get('iam_users') or []:
            domain = raw.get('domain', 'default')
            self.iam_users[raw['name']] = {
                'name': raw['name'], 'password': raw['password'], 'domain': domain,
                'id': raw.get('id') or stable_hex('iam-user', domain, raw['name']),
                'domain_id': raw.get('domain_id') or stable_hex('iam-domain', domain),
                'enabled': raw.get('enabled', True),
            }
        self.ca_users = {}
        next_id = 21820
        created = codearts_stamp(time.time() - 86400 * 30)
        for raw in state.get('users') or []:
            iam_name = raw.get('iam_user') or raw.get('name')
            iam = self.iam_users.get(iam_name)
            user = {
                'id': raw.get('id', next_id), 'name': raw.get('name', iam_name),
                'username': raw.get('username') or (iam['id'] if iam else stable_hex('codearts', iam_name)),
                'state': raw.get('state', 'active'), 'created_at': raw.get('created_at', created),
                'updated_at': raw.get('updated_at', created), 'last_activity_on': raw.get('last_activity_on', created[:10]),
                'commit_email': raw.get('commit_email') or f'{raw.get("name", iam_name)}_{raw.get("id", next_id)}@example.com',
                'is_default': raw.get('is_default', True),
            }
            next_id = max(next_id, int(user['id'])) + 1
            self.ca_users[iam_name] = user
        self.ca_next_id = next_id
        self.ca_static_tokens = dict(state.get('tokens') or {})
        self.iam_tokens = {}
        self.verify_codes = {}

    def dump_state(self):
        users = []
        for uid in sorted(self.users, key=self.user_seq.get):
            user = copy.deepcopy(self.users[uid])
            user['pending_email'] = self.pending_email.get(uid)
            users.append(user)
        return {
            'config': dict(self.config),
            'tenants': [dict(t) for t in self.tenants.values()],
            'clients': [dict(c) for c in self.clients.values()],
            'users': users,
            'codearts': {
                'iam_users': [dict(u) for u in self.iam_users.values()],
                'users': [dict(u, iam_user=name) for name, u in self.ca_users.items()],
                'tokens': dict(self.ca_static_tokens),
                'verify_codes': [dict(v, user=name, email=mail) for (name, mail), v in self.verify_codes.items()],
            },
            'tokens_issued': len(self.tokens),
            'outbox': list(self.outbox),
            'faults': [self.describe_fault(rule) for rule in self.faults],
        }

    def mail(self, **fields):
        self.mail_seq += 1
        fields['seq'] = self.mail_seq
        fields['time'] = time.time()
        self.outbox.append(fields)

    # -- request log and faults ----------------------------------------------------------------------------

    def log_request(self, req, status, fault):
        self.log_seq += 1
        entry = {
            'seq': self.log_seq, 'time': time.time(), 'api': req.api, 'method': req.method, 'path': req.path,
            'query': {key: (REDACTED if key.lower() in SECRET_KEYS else value) for key, value in req.flat_query().items()},
            'status': status, 'body': body_for_log(req), 'fault': fault, 'request_id': req.request_id,
            'headers': {key.lower(): value for key, value in req.headers.items() if key.lower() not in UNLOGGED_HEADERS},
        }
        limit = int(self.config['request_log_max'])
        if self.request_log.maxlen != limit:
            self.request_log = collections.deque(self.request_log, maxlen=limit)
        self.request_log.append(entry)

    def add_fault(self, rule):
        if not isinstance(rule, dict):
            raise control_error(400, 'fault rule must be an object')
        kind = rule.get('kind', 'status')
        if kind not in FAULT_KINDS:
            raise control_error(400, f'unknown fault kind {kind!r}; expected one of {", ".join(FAULT_KINDS)}')
        try:
            pattern = re.compile(rule.get('path') or '.*')
        except re.error as exc:
            raise control_error(400, f'bad path regex: {exc}')
        probability = rule.get('probability')
        count = rule.get('count')
        if count is None and probability is None:
            count = 1
        self.fault_seq += 1
        entry = {
            'id': self.fault_seq, 'kind': kind, 'method': (rule.get('method') or '').upper() or None, 'path': pattern,
            'count': None if count is None else int(count), 'status': int(rule.get('status') or (502 if kind == 'html' else 503)),
            'retry_after': None if rule.get('retry_after') is None else str(rule['retry_after']),
            'latency_ms': float(rule.get('latency_ms') or 0), 'patch': rule.get('patch') or {},
            'user_id': rule.get('user_id'), 'probability': probability, 'hits': 0,
            'rng': random.Random(rule.get('seed', 0)), 'api': rule.get('api'),
        }
        self.faults.append(entry)
        return self.describe_fault(entry)

    @staticmethod
    def describe_fault(rule):
        out = {key: value for key, value in rule.items() if key not in ('rng', 'path')}
        out['path'] = rule['path'].pattern
        return out

    def take_fault(self, req):
        for rule in self.faults:
            if rule['count'] is not None and rule['count'] <= 0:
                continue
            if rule['method'] and rule['method'] != req.method:
                continue
            if rule['api'] and rule['api'] != req.api:
                continue
            if not rule['path'].search(req.path):
                continue
            if rule['probability'] is not None and rule['rng'].random() >= float(rule['probability']):
                continue
            if rule['count'] is not None:
                rule['count'] -= 1
            rule['hits'] += 1
            return rule
        return None

    def fault_reply(self, rule, req):
        kind = rule['kind']
        if kind == 'reset':
            reply = Reply(0)
            reply.abort = True
            return reply
        if kind == 'html':
            page = (f'<html>\r\n<head><title>{rule["status"]} {reason(rule["status"])}</title></head>\r\n<body>\r\n'
                    f'<center><h1>{rule["status"]} {reason(rule["status"])}</h1></center>\r\n<hr><center>nginx</center>\r\n'
                    '</body>\r\n</html>\r\n')
            return Reply(rule['status'], raw=page.encode('ascii'), content_type='text/html')
        if kind == 'empty':
            return Reply(200, raw=b'')
        if kind == 'invalid_json':
            return Reply(200, raw=b'{"id": "truncated', content_type='application/json')
        if kind == 'huge':
            return Reply(200, raw=huge_body())
        # kind == 'status'
        status = rule['status']
        headers = [('Retry-After', rule['retry_after'])] if rule['retry_after'] else []
        if req.api == 'codearts':
            if status == 429:
                body = {'error_code': 'APIGW.0308', 'error_msg': 'The throttling threshold has been reached: policy user over ratelimit,limit:60,time:1 minute',
                        'request_id': req.request_id}
            else:
                body = {'error_code': 'CH.080504' if status == 504 else 'CH.000001', 'error_msg': f'{reason(status)} (injected fault)'}
        elif req.api == 'iam':
            body = {'error': {'code': status, 'message': f'{reason(status)} (injected fault)', 'title': reason(status)}}
        else:
            body = {'error': {'code': status, 'message': reason(status), 'details': {'info': 'injected fault'}, 'context': {}, 'domain': DOMAIN}}
        return Reply(status, body, headers=headers)

    def concurrent_modification(self, rule, req):
        uid = rule['user_id']
        if not uid:
            match = re.search(r'/users/([0-9a-f-]{36})', req.path)
            uid = match.group(1) if match else None
        if uid in self.users:
            self.patch_user(uid, rule['patch'])

    # -- dispatch --------------------------------------------------------------------------------------------

    def handle(self, req):
        """Run one API request; returns (reply, fault name). Called with the lock held."""
        if req.path.startswith(CLOUD_PREFIX + '/') or req.path == CLOUD_PREFIX:
            req.api = 'cloud'
        elif req.path.startswith('/v3/'):
            req.api = 'iam'
        else:
            req.api = 'codearts'
        rule = self.take_fault(req)
        fault = rule['kind'] if rule else None
        if rule and rule['kind'] not in ('latency', 'concurrent_modification'):
            return self.fault_reply(rule, req), fault
        if rule and rule['kind'] == 'concurrent_modification':
            self.concurrent_modification(rule, req)
        try:
            if req.api == 'cloud':
                reply = self.route_cloud(req)
            elif req.api == 'iam':
                reply = self.route_iam(req)
            else:
                reply = self.route_codearts(req)
        except ApiError as exc:
            reply = exc.reply
        if rule and rule['kind'] == 'latency':
            reply.sleep = rule['latency_ms'] / 1000.0
        return reply, fault

    # -- cloud API -------------------------------------------------------------------------------------------

    CLOUD_ROUTES = (
        (re.compile(r'^/idp/token$'), {'POST': 'cloud_token'}),
        (re.compile(r'^/clients/(?P<client_id>[^/]+)$'), {'GET': 'cloud_get_client'}),
        (re.compile(r'^/users$'), {'GET': 'cloud_list_users'}),
        (re.compile(r'^/users/(?P<user_id>[^/]+)$'), {'GET': 'cloud_get_user', 'PUT': 'cloud_put_user', 'DELETE': 'cloud_delete_user'}),
        (re.compile(r'^/users/(?P<user_id>[^/]+)/send-activation-email$'), {'POST': 'cloud_send_activation'}),
        (re.compile(r'^/users/(?P<user_id>[^/]+)/password$'), {'POST': 'cloud_set_password'}),
        (re.compile(r'^/search$'), {'GET': 'cloud_search'}),
        (re.compile(r'^/tenants/(?P<tenant_id>[^/]+)/users$'), {'GET': 'cloud_tenant_users'}),
    )

    def route_cloud(self, req):
        sub = req.path[len(CLOUD_PREFIX):]
        for pattern, methods in self.CLOUD_ROUTES:
            match = pattern.match(sub)
            if not match:
                continue
            name = methods.get(req.method)
            if name is None:
                raise cloud_error(405, f'method {req.method} is not allowed on {req.path}', headers=[('Allow', ', '.join(methods))])
            req.params = {key: unquote(value) for key, value in match.groupdict().items()}
            if name != 'cloud_token' and not accepts_json(req.headers.get('Accept')):
                # The spec documents 415 for an Accept header that rules out JSON.
                raise cloud_error(415, f"Accept {req.headers.get('Accept')!r} does not allow application/json",
                                  message='Unsupported Media Type')
            return getattr(self, name)(req)
        raise cloud_error(404, f'no such endpoint: {req.path}', message='Not Found')

    def check(self, req, op_name):
        """Validate path and query parameters against the spec; returns the coerced query."""
        op = self.ops[op_name]
        _dummy, err = op.check_params('path', req.params)
        if err:
            raise cloud_error(400, err, message='Bad Request')
        query, err = op.check_params('query', req.flat_query())
        if err:
            raise cloud_error(400, err, message='Bad Request')
        return query

    def authenticate(self, req):
        header = req.headers.get('Authorization') or ''
        token = None
        if header:
            scheme, _sep, value = header.partition(' ')
            if scheme.lower() != 'bearer' or not value.strip():
                raise cloud_error(401, 'Authorization header must be "Bearer <access token>"', message='Unauthorized')
            token = value.strip()
            if req.q('access_token'):
                raise cloud_error(400, 'access token given both in the Authorization header and in the access_token parameter')
        else:
            token = req.q('access_token')
        if not token:
            raise cloud_error(401, 'access token is missing', message='Unauthorized')
        entry = self.tokens.get(token)
        if entry is None:
            raise cloud_error(401, 'access token is invalid', message='Unauthorized')
        if time.time() >= entry['expires_at']:
            raise cloud_error(401, 'access token has expired', message='Unauthorized')
        client = self.clients.get(entry['client_id'])
        if client is None or client['status'] != 'enabled':
            raise cloud_error(401, 'API client is disabled or deleted', message='Unauthorized')
        return client

    def in_scope(self, client, tenant_id):
        return client['tenant_id'] in self.ancestors.get(tenant_id, ())

    def visible_user(self, req, client, allow_deleted=False):
        uid = req.params['user_id']
        user = self.users.get(uid)
        if user is None or (user['deleted_at'] and not allow_deleted):
            raise cloud_error(404, f'user {uid} not found', message='Not Found')
        if not self.in_scope(client, user['tenant_id']):
            raise cloud_error(403, f'user {uid} is outside the tenant of the API client', message='Forbidden', code=1002)
        return user

    def cloud_token(self, req):
        op = self.ops['RequestTokens']
        if req.content_type() != 'application/x-www-form-urlencoded':
            raise token_error(400, 'invalid_request', 'Content-Type must be application/x-www-form-urlencoded')
        form = req.form()
        values = {key: value for key, value in form.items() if key != 'not_required_introspection'}
        err = op.check_body('application/x-www-form-urlencoded', values)
        if err:
            raise token_error(400, 'invalid_request', err)
        if form.get('grant_type') != 'client_credentials':
            raise token_error(400, 'invalid_request', f"grant_type {form.get('grant_type')!r} is not supported for API clients")
        client_id, secret = form.get('client_id'), form.get('client_secret')
        header = req.headers.get('Authorization') or ''
        if header:
            scheme, _sep, value = header.partition(' ')
            if scheme.lower() != 'basic':
                raise token_error(401, 'invalid_client', 'client authentication must use HTTP Basic')
            try:
                client_id, _sep, secret = base64.b64decode(value.strip(), validate=True).decode('utf-8').partition(':')
            except (binascii.Error, UnicodeDecodeError):
                raise token_error(401, 'invalid_client', 'malformed Basic credentials')
        client = self.clients.get(client_id or '')
        if client is None or not secret or not secrets.compare_digest(client['client_secret'], secret):
            raise token_error(401, 'invalid_client', 'invalid client credentials')
        if client['status'] != 'enabled':
            raise token_error(401, 'invalid_client', 'client is disabled')
        ttl = int(self.config['token_ttl'])
        now = time.time()
        token = secrets.token_urlsafe(48)
        self.tokens[token] = {'client_id': client['client_id'], 'expires_at': now + ttl}
        client['last_access_at'] = cloud_stamp(now)
        client['last_access_from_ip'] = req.client_ip
        body = {'access_token': token, 'token_type': 'bearer', 'expires_in': ttl, 'expires_on': int(now + ttl),
                'id_token': secrets.token_urlsafe(64)}
        return Reply(200, body, headers=[('Cache-Control', 'no-store'), ('Pragma', 'no-cache')])

    def cloud_get_client(self, req):
        caller = self.authenticate(req)
        self.check(req, 'FetchClient')
        client = self.clients.get(req.params['client_id'])
        if client is None:
            raise cloud_error(404, f"client {req.params['client_id']} not found", message='Not Found')
        if not self.in_scope(caller, client['tenant_id']):
            raise cloud_error(403, 'client belongs to a tenant outside the caller\'s tenant', message='Forbidden', code=1002)
        return Reply(200, {
            'client_id': client['client_id'], 'tenant_id': client['tenant_id'], 'type': client['type'],
            'status': client['status'], 'data': {'client_name': client['client_name']},
            'client_secret_expires_at': 0, 'token_endpoint_auth_method': client['token_endpoint_auth_method'],
            'created_at': client['created_at'], 'created_by': client['created_by'],
            'last_access_at': client['last_access_at'], 'last_access_from_ip': client['last_access_from_ip'],
        })

    @staticmethod
    def user_view(user):
        out = {}
        for key in SINGLE_USER_FIELDS:
            value = user.get(key)
            if value is None and key not in SINGLE_USER_KEEP_NULL:
                continue
            out[key] = value
        out['contact'] = dict(user['contact'])
        return out

    @staticmethod
    def batch_view(user, lod):
        fields = {'stamps': LOD_STAMPS, 'basic': LOD_BASIC}.get(lod, LOD_FULL)
        out = {}
        for key in fields:
            if key == 'access_policies':
                out[key] = []
                continue
            value = user.get(key)
            if value is None and key not in BATCH_REQUIRED_NULLABLE and key != 'delivery_channel':
                continue
            out[key] = value
        if 'contact' in out:
            out['contact'] = dict(out['contact'])
        return out

    def cloud_get_user(self, req):
        client = self.authenticate(req)
        query = self.check(req, 'FetchUser')
        user = self.visible_user(req, client, allow_deleted=query.get('allow_deleted', False))
        return Reply(200, self.user_view(user))

    def cloud_list_users(self, req):
        client = self.authenticate(req)
        query = self.check(req, 'FetchUsersBatch')
        limit = query.get('limit')
        after = query.get('after')
        if after:
            try:
                cursor = json.loads(base64.urlsafe_b64decode(after.encode('ascii') + b'==').decode('utf-8'))
                root, last = cursor['root'], int(cursor['last'])
            except (ValueError, KeyError, TypeError, UnicodeError, binascii.Error):
                raise cloud_error(400, "query parameter 'after': not a cursor returned by this server")
            lod = query.get('lod') or cursor.get('lod', 'full')
            limit = limit or cursor.get('limit')
            allow_deleted = cursor.get('deleted', False)
            since = cursor.get('since')
        else:
            uuids = query.get('uuids')
            root = query.get('subtree_root_tenant_id')
            lod = query.get('lod', 'full')
            allow_deleted = query.get('allow_deleted', False)
            since = query.get('updated_since')
            if uuids and (root or query.get('external_ids') or query.get('tenant_id')):
                raise cloud_error(400, 'uuids is mutually exclusive with subtree_root_tenant_id, external_ids and tenant_id')
            if query.get('external_ids') and root:
                raise cloud_error(400, 'external_ids is mutually exclusive with subtree_root_tenant_id')
            if query.get('external_ids') and not query.get('tenant_id'):
                raise cloud_error(400, 'tenant_id is required when searching users by external_ids')
            if query.get('tenant_id') and not query.get('external_ids'):
                raise cloud_error(400, 'tenant_id is only used together with external_ids')
            if query.get('inside_organization') is not None and not root:
                raise cloud_error(400, 'inside_organization requires subtree_root_tenant_id')
            if since is not None:
                try:
                    since = parse_rfc3339(since)
                except ValueError:
                    raise cloud_error(400, "query parameter 'updated_since': not an RFC3339 timestamp")
            if uuids:
                ids = uuids.split(',')
                bad = [uid for uid in ids if not UUID_RE.match(uid)]
                if bad:
                    raise cloud_error(400, f"query parameter 'uuids': {bad[0]!r} is not a UUID")
                if len(ids) > int(self.config['uuids_max']):
                    raise cloud_error(400, f"query parameter 'uuids': {len(ids)} UUIDs given, at most {self.config['uuids_max']} allowed")
                items = []
                seen = set()
                for uid in ids:
                    user = self.users.get(uid)
                    if uid in seen or user is None or (user['deleted_at'] and not allow_deleted):
                        continue
                    if not self.in_scope(client, user['tenant_id']):
                        continue
                    seen.add(uid)
                    items.append(self.batch_view(user, lod))
                return Reply(200, {'items': items, 'timestamp': cloud_stamp(), 'paging': {'cursors': {}}})
            if query.get('external_ids'):
                wanted = query['external_ids'].split(',')
                if len(wanted) > int(self.config['uuids_max']):
                    raise cloud_error(400, f"query parameter 'external_ids': at most {self.config['uuids_max']} allowed")
                tenant = query['tenant_id']
                items = [self.batch_view(u, lod) for u in self.users.values()
                         if u.get('external_id') in wanted and u['tenant_id'] == tenant and self.in_scope(client, tenant)
                         and (allow_deleted or not u['deleted_at'])]
                return Reply(200, {'items': items, 'timestamp': cloud_stamp(), 'paging': {'cursors': {}}})
            if not root:
                raise cloud_error(400, 'one of uuids, external_ids or subtree_root_tenant_id is required')
            last = -1
        if root not in self.tenants:
            raise cloud_error(404, f'tenant {root} not found', message='Not Found')
        if not self.in_scope(client, root):
            raise cloud_error(403, f'tenant {root} is outside the tenant of the API client', message='Forbidden', code=1002)
        limit = int(limit or self.config['users_default_limit'])
        items = []
        more = False
        last_seen = last
        for uid in sorted(self.users, key=self.user_seq.get):
            seq = self.user_seq[uid]
            if seq <= last:
                continue
            user = self.users[uid]
            if root not in self.ancestors[user['tenant_id']]:
                continue
            if user['deleted_at'] and not allow_deleted:
                continue
            if since is not None and parse_rfc3339(user['updated_at']) <= since:
                continue
            if len(items) >= limit:
                more = True
                break
            items.append(self.batch_view(user, lod))
            last_seen = seq
        body = {'items': items, 'timestamp': cloud_stamp(), 'paging': {'cursors': {}}}
        if more:
            cursor = {'root': root, 'last': last_seen, 'lod': lod, 'limit': limit, 'deleted': allow_deleted, 'since': since}
            body['paging']['cursors']['after'] = base64.urlsafe_b64encode(json.dumps(cursor).encode('utf-8')).decode('ascii').rstrip('=')
        return Reply(200, body)

    def tenant_path(self, root, tenant_id):
        """Names of the tenants from the search root down to tenant_id, both included."""
        chain = self.ancestors[tenant_id]
        names = []
        for tid in chain:
            names.append(self.tenants[tid]['name'])
            if tid == root:
                break
        return list(reversed(names))

    def cloud_search(self, req):
        client = self.authenticate(req)
        query = self.check(req, 'Search')
        root = query['tenant']
        text = query['text']
        limit = query.get('limit', self.config['search_default_limit'])
        if not isinstance(limit, int) or limit < 1:
            raise cloud_error(400, "query parameter 'limit': must be a positive integer")
        if not text.strip():
            raise cloud_error(400, "query parameter 'text': must not be empty")
        if root not in self.tenants:
            raise cloud_error(404, f'tenant {root} not found', message='Not Found')
        if not self.in_scope(client, root):
            raise cloud_error(403, f'tenant {root} is outside the tenant of the API client', message='Forbidden', code=1002)
        allow_deleted = query.get('allow_deleted', False)
        needle = text.strip().lower()
        items = []
        for tenant in self.tenants.values():
            if len(items) >= limit:
                break
            if tenant['id'] == root or root not in self.ancestors[tenant['id']]:
                continue
            if tenant['deleted_at'] and not allow_deleted:
                continue
            if needle in tenant['name'].lower():
                items.append({'obj_type': 'tenant', 'kind': tenant['kind'], 'id': tenant['id'], 'parent_id': tenant['parent_id'],
                              'path': self.tenant_path(root, tenant['parent_id']), 'name': tenant['name'],
                              'first_name': None, 'last_name': None, 'deleted_at': tenant['deleted_at']})
        for uid in sorted(self.users, key=self.user_seq.get):
            if len(items) >= limit:
                break
            user = self.users[uid]
            if root not in self.ancestors[user['tenant_id']]:
                continue
            if user['deleted_at'] and not allow_deleted:
                continue
            contact = user['contact']
            haystack = (user['login'], contact.get('email'), contact.get('firstname'), contact.get('lastname'))
            if any(needle in (value or '').lower() for value in haystack):
                items.append({'obj_type': 'user', 'id': uid, 'parent_id': user['tenant_id'],
                              'path': self.tenant_path(root, user['tenant_id']), 'login': user['login'],
                              'first_name': contact.get('firstname'), 'last_name': contact.get('lastname'),
                              'deleted_at': user['deleted_at']})
        return Reply(200, {'items': items})

    def cloud_tenant_users(self, req):
        client = self.authenticate(req)
        query = self.check(req, 'FetchTenantUsers')
        tenant_id = req.params['tenant_id']
        if tenant_id not in self.tenants:
            raise cloud_error(404, f'tenant {tenant_id} not found', message='Not Found')
        if not self.in_scope(client, tenant_id):
            raise cloud_error(403, f'tenant {tenant_id} is outside the tenant of the API client', message='Forbidden', code=1002)
        nested = query.get('include_grand_children', False)
        users = []
        for uid in sorted(self.users, key=self.user_seq.get):
            user = self.users[uid]
            if user['deleted_at'] and not query.get('allow_deleted', False):
                continue
            if user['tenant_id'] == tenant_id or (nested and tenant_id in self.ancestors[user['tenant_id']]):
                users.append(user)
        order = query.get('order', 'name')
        descending = order.startswith('-')
        key = order.lstrip('-')
        if key == 'login':
            users.sort(key=lambda u: u['login'].lower(), reverse=descending)
        elif key == 'name':
            users.sort(key=lambda u: (f"{u['contact'].get('firstname') or ''} {u['contact'].get('lastname') or ''}".strip()
                                      or u['login']).lower(), reverse=descending)
        elif descending:
            users.reverse()
        return Reply(200, {'items': [u['id'] for u in users]})

    def require_json(self, req):
        if req.content_type() != 'application/json':
            raise cloud_error(415, f"Content-Type must be application/json, got {req.headers.get('Content-Type')!r}",
                              message='Unsupported Media Type')
        return req.json(lambda info: cloud_error(400, info, message='Bad Request'))

    def conflict(self, user, version):
        status = int(self.config['conflict_status'])
        return cloud_error(status, f"version {version} does not match the current version {user['version']} of user {user['id']}",
                           message='Version mismatch', code=1001)

    def touch(self, user):
        user['version'] += 1
        user['updated_at'] = cloud_stamp()

    def cloud_put_user(self, req):
        client = self.authenticate(req)
        self.check(req, 'UpdateUser')
        user = self.visible_user(req, client)
        body = self.require_json(req)
        err = self.ops['UpdateUser'].check_body('application/json', body)
        if err:
            raise cloud_error(400, err, message='Bad Request')
        if body['version'] != user['version']:
            raise self.conflict(user, body['version'])
        if 'login' in body and body['login'] != user['login']:
            if not LOGIN_RE.match(body['login']):
                raise cloud_error(400, f"body 'login': {body['login']!r} is not a valid login", message='Invalid login', code=1033)
            taken = any(u['login'].lower() == body['login'].lower() and not u['deleted_at'] for u in self.users.values() if u is not user)
            if taken:
                raise cloud_error(409, f"body 'login': login {body['login']!r} is already taken", message='Login is already taken')
        changed = False
        mail_requested = False
        for key in USER_PUT_FIELDS:
            if key in body and body[key] != user.get(key):
                user[key] = copy.deepcopy(body[key])
                changed = True
        contact_changed = False
        for key, value in (body.get('contact') or {}).items():
            if key in CONTACT_REFERENCE_KEYS:
                continue
            if key == 'email' and user['activated']:
                if value != user['contact'].get('email'):
                    # Activated account: the address changes only once the owner confirms; mail goes to the old one.
                    self.pending_email[user['id']] = value
                    self.mail(kind='email_confirmation', user_id=user['id'], login=user['login'],
                              to=user['contact'].get('email'), new_email=value)
                    mail_requested = True
                continue
            if user['contact'].get(key) != value:
                user['contact'][key] = copy.deepcopy(value)
                contact_changed = True
        if contact_changed:
            changed = True
            user['contact']['updated_at'] = cloud_stamp()
        if changed or (self.config['noop_put_bumps_version'] and not mail_requested):
            self.touch(user)
        return Reply(200, self.user_view(user))

    def cloud_delete_user(self, req):
        client = self.authenticate(req)
        query = self.check(req, 'DeleteUser')
        user = self.visible_user(req, client)
        if query['version'] != user['version']:
            raise self.conflict(user, query['version'])
        if user['enabled']:
            raise cloud_error(400, f"user {user['id']} must be disabled before it can be deleted",
                              message='It is prohibited to delete a non-disabled user.')
        self.touch(user)
        user['deleted_at'] = user['updated_at']
        return Reply(204)

    def sub_tenant_user(self, req, client):
        user = self.visible_user(req, client)
        if user['tenant_id'] == client['tenant_id']:
            raise cloud_error(403, 'only users of sub-tenants of the API client tenant can be managed this way',
                              message='Forbidden', code=1002)
        return user

    def cloud_send_activation(self, req):
        client = self.authenticate(req)
        self.check(req, 'SendActivationEmail')
        user = self.sub_tenant_user(req, client)
        self.mail(kind='activation', user_id=user['id'], login=user['login'], to=user['contact'].get('email'))
        return Reply(204)

    def cloud_set_password(self, req):
        client = self.authenticate(req)
        self.check(req, 'SetUserPassword')
        user = self.sub_tenant_user(req, client)
        body = self.require_json(req)
        err = self.ops['SetUserPassword'].check_body('application/json', body)
        if err:
            raise cloud_error(400, err, message='Bad Request')
        if not user['activated']:
            user['activated'] = True
            self.touch(user)
        return Reply(204)

    # -- users as changed by "someone else" -----------------------------------------------------------------

    def patch_user(self, uid, patch):
        user = self.users.get(uid)
        if user is None:
            raise control_error(404, f'user {uid} not found')
        if not isinstance(patch, dict):
            raise control_error(400, 'patch must be an object')
        patch = copy.deepcopy(patch)
        contact = patch.pop('contact', None) or {}
        if 'pending_email' in patch:
            pending = patch.pop('pending_email')
            if pending:
                self.pending_email[uid] = pending
            else:
                self.pending_email.pop(uid, None)
        explicit_version = patch.pop('version', None)
        user.update(patch)
        if contact:
            user['contact'].update(contact)
            user['contact']['updated_at'] = cloud_stamp()
        self.touch(user)
        if explicit_version is not None:
            user['version'] = int(explicit_version)
        return user

    def confirm_email(self, uid):
        user = self.users.get(uid)
        if user is None:
            raise control_error(404, f'user {uid} not found')
        pending = self.pending_email.pop(uid, None)
        if pending is None:
            raise control_error(409, f'user {uid} has no pending email change')
        user['contact']['email'] = pending
        user['contact']['updated_at'] = cloud_stamp()
        self.touch(user)
        return user

    # -- IAM ---------------------------------------------------------------------------------------------------

    def route_iam(self, req):
        if req.path.rstrip('/') != '/v3/auth/tokens':
            raise iam_error(404, f'The resource could not be found: {req.path}')
        if req.method != 'POST':
            raise iam_error(405, f'method {req.method} is not allowed')
        body = req.json(lambda info: iam_error(400, info))
        try:
            auth = body['auth']
            identity = auth['identity']
            methods = identity['methods']
        except (KeyError, TypeError):
            raise iam_error(400, "body must be {'auth': {'identity': {'methods': [...], ...}, 'scope': {...}}}")
        if 'password' not in methods or not isinstance(identity.get('password'), dict):
            raise iam_error(400, 'only the password identity method is supported')
        puser = identity['password'].get('user') or {}
        domain = puser.get('domain') or {}
        scope = auth.get('scope') or {}
        if not isinstance(scope, dict) or ('project' in scope and 'domain' in scope):
            raise iam_error(400, 'scope must name either a project or a domain, not both')
        account = None
        for candidate in self.iam_users.values():
            if puser.get('id') and candidate['id'] != puser['id']:
                continue
            if puser.get('name') and candidate['name'] != puser['name']:
                continue
            if not puser.get('id') and domain.get('name') != candidate['domain'] and domain.get('id') != candidate['domain_id']:
                continue
            account = candidate
            break
        password = puser.get('password')
        if (account is None or not isinstance(password, str) or not account['enabled']
                or not secrets.compare_digest(account['password'], password)):
            raise iam_error(401, 'The username or password is wrong.')
        now = time.time()
        ttl = int(self.config['iam_token_ttl'])
        token_domain = {'id': account['domain_id'], 'name': account['domain']}
        result = {
            'expires_at': iam_stamp(now + ttl), 'issued_at': iam_stamp(now), 'methods': ['password'],
            'user': {'id': account['id'], 'name': account['name'], 'domain': token_domain, 'password_expires_at': ''},
            'roles': [],
        }
        if 'project' in scope:
            project = scope['project'] or {}
            name = project.get('name') or 'cn-north-4'
            result['project'] = {'id': project.get('id') or stable_hex('iam-project', account['domain'], name),
                                 'name': name, 'domain': token_domain}
        else:
            wanted = scope.get('domain') or {}
            if wanted and wanted.get('name') not in (None, account['domain']) and wanted.get('id') not in (None, account['domain_id']):
                raise iam_error(401, 'The user does not belong to the requested domain.')
            result['domain'] = token_domain
        if not req.q('nocatalog'):
            result['catalog'] = []
        token = 'MII' + secrets.token_urlsafe(96)
        self.iam_tokens[token] = {'user': account['name'], 'expires_at': now + ttl}
        return Reply(201, {'token': result}, headers=[('X-Subject-Token', token)])

    # -- CodeArts Repo -------------------------------------------------------------------------------------------

    CODEARTS_ROUTES = {
        ('GET', '/v4/user/emails'): 'codearts_show',
        ('PUT', '/v4/user/emails'): 'codearts_update',
        ('POST', '/v4/user/email-verify-code'): 'codearts_send_code',
    }

    def route_codearts(self, req):
        name = self.CODEARTS_ROUTES.get((req.method, req.path.rstrip('/')))
        if name is None:
            raise codearts_error(404, 'APIGW.0101', 'The API does not exist or has not been published in the environment.', req.request_id)
        user = self.codearts_user(req)
        user['last_activity_on'] = codearts_stamp()[:10]
        return getattr(self, name)(req, user)

    def codearts_user(self, req):
        token = req.headers.get('X-Auth-Token') or ''
        expired = codearts_error(401, 'DEV.00000003', 'Authentication information expired.')
        if not token:
            raise expired
        iam_name = self.ca_static_tokens.get(token)
        if iam_name is None:
            entry = self.iam_tokens.get(token)
            if entry is None or time.time() >= entry['expires_at']:
                raise expired
            iam_name = entry['user']
        user = self.ca_users.get(iam_name)
        if user is None:
            # First visit of an IAM user: CodeArts gives a virtual default commit email.
            iam = self.iam_users.get(iam_name, {})
            user = {'id': self.ca_next_id, 'name': iam_name, 'username': iam.get('id') or stable_hex('codearts', iam_name),
                    'state': 'active', 'created_at': codearts_stamp(), 'updated_at': codearts_stamp(),
                    'last_activity_on': codearts_stamp()[:10], 'commit_email': f'{iam_name}_{self.ca_next_id}@example.com',
                    'is_default': True}
            self.ca_next_id += 1
            self.ca_users[iam_name] = user
        return user

    @staticmethod
    def codearts_view(user):
        return {key: user[key] for key in ('id', 'name', 'username', 'state', 'created_at', 'updated_at', 'last_activity_on',
                                           'commit_email', 'is_default')}

    def codearts_body(self, req):
        body = req.json(lambda info: codearts_error(400, 'CH.010001', f'Invalid request body: {info}'))
        if not isinstance(body, dict):
            raise codearts_error(400, 'CH.010001', 'Invalid request body: a JSON object is expected.')
        return body

    @staticmethod
    def check_commit_email(address):
        if not isinstance(address, str) or not address:
            raise codearts_error(400, 'CH.010001', 'The email address is required.')
        if len(address) > 200:
            raise codearts_error(400, 'CH.010001', 'The email address cannot exceed 200 characters.')
        if not COMMIT_EMAIL_RE.match(address):
            raise codearts_error(400, 'CH.010001', 'Invalid email address format.')

    def codearts_show(self, req, user):
        return Reply(200, self.codearts_view(user))

    def codearts_send_code(self, req, user):
        body = self.codearts_body(req)
        address = body.get('email')
        self.check_commit_email(address)
        code = ''.join(secrets.choice(CODE_ALPHABET) for _i in range(6))
        self.verify_codes[(user['name'], address.lower())] = {'code': code, 'issued_at': time.time(), 'used': False}
        self.mail(kind='verify_code', to=address, code=code, user=user['name'])
        return Reply(201, {'result': 'Verification Code Sent'})

    def codearts_update(self, req, user):
        body = self.codearts_body(req)
        address = body.get('email')
        self.check_commit_email(address)
        code = body.get('verify_code')
        if not isinstance(code, str) or not code:
            raise codearts_error(400, 'CH.010001', 'The verification code is required.')
        for name, other in self.ca_users.items():
            if name != user['name'] and other['commit_email'].lower() == address.lower():
                raise codearts_error(400, 'CH.010002', 'The email address is already used by another user.')
        entry = self.verify_codes.get((user['name'], address.lower()))
        if entry is None or not secrets.compare_digest(entry['code'], code.upper()):
            raise codearts_error(400, 'CH.010001', 'Invalid verification code.')
        if entry['used']:
            raise codearts_error(400, 'CH.010001', 'The verification code has already been used.')
        if time.time() - entry['issued_at'] > float(self.config['verify_code_ttl']):
            raise codearts_error(400, 'CH.010001', 'The verification code has expired.')
        entry['used'] = True
        user['commit_email'] = address
        user['is_default'] = False
        user['updated_at'] = codearts_stamp()
        return Reply(200, self.codearts_view(user))

    # -- control API -------------------------------------------------------------------------------------------

    def route_control(self, req):
        sub = req.path[len(CONTROL_PREFIX):].rstrip('/')
        method = req.method

        def body():
            if not req.body:
                return {}
            return req.json(lambda info: control_error(400, info))

        if sub == '/health' and method == 'GET':
            return Reply(200, {'ok': True})
        if sub == '/reset' and method == 'POST':
            saved = dict(self.__dict__)
            try:
                self.reset(body())
            except Exception:
                # a bad state document leaves the previous state untouched
                self.__dict__.clear()
                self.__dict__.update(saved)
                raise
            return Reply(200, {'ok': True, 'users': len(self.users)})
        if sub == '/state' and method == 'GET':
            return Reply(200, self.dump_state())
        if sub == '/config':
            if method == 'POST':
                update = body()
                if not isinstance(update, dict):
                    raise control_error(400, 'config must be an object')
                self.config.update(update)
            if method in ('GET', 'POST'):
                return Reply(200, dict(self.config))
        match = re.match(r'^/users/([^/]+)(/confirm-email)?$', sub)
        if match:
            if match.group(2) and method == 'POST':
                return Reply(200, self.user_view(self.confirm_email(match.group(1))))
            if not match.group(2) and method == 'PATCH':
                return Reply(200, self.user_view(self.patch_user(match.group(1), body())))
            if not match.group(2) and method == 'GET':
                user = self.users.get(match.group(1))
                if user is None:
                    raise control_error(404, 'user not found')
                return Reply(200, dict(self.user_view(user), pending_email=self.pending_email.get(user['id'])))
        if sub == '/requests':
            if method == 'GET':
                api = req.q('api')
                since = int(req.q('since') or 0)
                entries = [e for e in self.request_log if e['seq'] > since and (not api or e['api'] == api)]
                return Reply(200, {'requests': entries})
            if method == 'DELETE':
                self.request_log.clear()
                return Reply(200, {'ok': True})
        if sub == '/outbox':
            if method == 'GET':
                return Reply(200, {'mails': list(self.outbox)})
            if method == 'DELETE':
                self.outbox = []
                return Reply(200, {'ok': True})
        if sub == '/faults':
            if method == 'GET':
                return Reply(200, {'faults': [self.describe_fault(rule) for rule in self.faults]})
            if method == 'POST':
                rules = body()
                added = [self.add_fault(rule) for rule in (rules if isinstance(rules, list) else [rules])]
                return Reply(200, {'faults': added})
            if method == 'DELETE':
                self.faults = []
                return Reply(200, {'ok': True})
        raise control_error(404, f'no control endpoint {method} {req.path}')


_huge = []


def huge_body():
    if not _huge:
        _huge.append(b'{"items": ["' + b'x' * HUGE_BODY_BYTES + b'"]}')
    return _huge[0]


# ----------------------------------------------------------------------------------------------------------------
# HTTP layer

class Handler(BaseHTTPRequestHandler):
    protocol_version = 'HTTP/1.1'
    # Without this every small response waits for the client's delayed ACK (~40 ms).
    disable_nagle_algorithm = True
    server_version = 'accountops-emulator/1.0'
    sys_version = ''
    timeout = 300
    emulator = None  # set by make_server

    def log_message(self, format, *args):  # pylint: disable=redefined-builtin
        pass

    def handle(self):
        try:
            if isinstance(self.connection, ssl.SSLSocket):
                self.connection.do_handshake()
            super().handle()
        except OSError:  # includes resets, TLS failures and timeouts: nothing left to answer
            self.close_connection = True

    def read_body(self):
        if 'chunked' in (self.headers.get('Transfer-Encoding') or '').lower():
            chunks = []
            while True:
                size = int(self.rfile.readline().split(b';', 1)[0].strip() or b'0', 16)
                if size == 0:
                    while self.rfile.readline() not in (b'\r\n', b'\n', b''):
                        pass
                    return b''.join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
        length = int(self.headers.get('Content-Length') or 0)
        return self.rfile.read(length) if length > 0 else b''

    def dispatch(self):
        emulator = self.emulator
        try:
            length = int(self.headers.get('Content-Length') or 0)
        except ValueError:
            length = -1
        if length < 0 or length > int(emulator.config['max_body_bytes']):
            self.close_connection = True
            self.write(Reply(413 if length > 0 else 400, {'error': 'bad Content-Length'}), uuid.uuid4().hex)
            return
        body = self.read_body()
        parts = urlsplit(self.path)
        req = Request(self.command, unquote(parts.path) or '/', parse_qs(parts.query, keep_blank_values=True),
                      self.headers, body, self.client_address[0])
        if req.path.startswith(CONTROL_PREFIX + '/'):
            with emulator.lock:
                try:
                    reply = emulator.route_control(req)
                except ApiError as exc:
                    reply = exc.reply
                except Exception as exc:  # malformed control input; tell the test author what broke
                    reply = Reply(400, {'error': f'{type(exc).__name__}: {exc}'})
                payload = reply.body()
            self.write(reply, req.request_id, payload)
            return
        with emulator.lock:
            try:
                reply, fault = emulator.handle(req)
            except Exception:  # a bug in the emulator must not look like a network error to the client
                traceback.print_exc(file=sys.stderr)
                reply, fault = Reply(500, {'error': {'code': 500, 'message': 'emulator bug', 'details': {'info': 'see stderr'},
                                                     'context': {}, 'domain': DOMAIN}}), None
            emulator.log_request(req, None if reply.abort else reply.status, fault)
            payload = reply.body()
        if reply.abort:
            self.abort()
            return
        if reply.sleep:
            time.sleep(reply.sleep)
        self.write(reply, req.request_id, payload)

    def abort(self):
        """Drop the connection with a TCP reset and no answer."""
        self.close_connection = True
        try:
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack('ii', 1, 0))
            # detach() + close() closes the descriptor now, even while rfile/wfile still refer to it.
            socket.socket(fileno=self.connection.detach()).close()
        except OSError:
            pass

    def write(self, reply, request_id, payload=None):
        payload = reply.body() if payload is None else payload
        lines = [f'HTTP/1.1 {reply.status} {reason(reply.status)}', f'Date: {email.utils.formatdate(usegmt=True)}',
                 f'Server: {self.server_version}', f'X-Request-Id: {request_id}']
        if reply.status != 204:
            lines.append(f'Content-Type: {reply.content_type}')
            lines.append(f'Content-Length: {len(payload)}')
        for name, value in reply.headers:
            lines.append(f'{name}: {value}')
        if self.close_connection:
            lines.append('Connection: close')
        elif self.request_version == 'HTTP/1.0':
            lines.append('Connection: keep-alive')
        head = ('\r\n'.join(lines) + '\r\n\r\n').encode('latin-1')
        if self.command == 'HEAD':
            payload = b''  # same headers as GET, no body
        self.wfile.write(head + payload if len(payload) < 65536 else head)
        if len(payload) >= 65536:
            self.wfile.write(payload)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = dispatch


class Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128
    ssl_context = None

    def get_request(self):
        sock, addr = self.socket.accept()
        if self.ssl_context is not None:
            # Handshake later, in the connection's own thread, so a bad client cannot stall accept().
            sock = self.ssl_context.wrap_socket(sock, server_side=True, do_handshake_on_connect=False)
        return sock, addr

    def handle_error(self, request, client_address):
        if isinstance(sys.exc_info()[1], OSError):
            return
        traceback.print_exc(file=sys.stderr)


def make_server(emulator, host, port, ssl_context=None):
    handler = type('BoundHandler', (Handler,), {'emulator': emulator})
    server = Server((host, port), handler)
    server.ssl_context = ssl_context
    return server


def write_ready_file(path, info):
    tmp = f'{path}.tmp.{os.getpid()}'
    with open(tmp, 'w', encoding='utf-8') as handle:
        json.dump(info, handle)
    os.replace(tmp, path)


def parse_args(argv):
    parser = argparse.ArgumentParser(description='accountops.cloud API emulator')
    parser.add_argument('--host', default='127.0.0.1')
    parser.add_argument('--http-port', type=int, default=0)
    parser.add_argument('--https-port', type=int, default=None)
    parser.add_argument('--cert', help='PEM server certificate (with --https-port)')
    parser.add_argument('--key', help='PEM private key of the server certificate')
    parser.add_argument('--ready-file', help='write {"http", "https", "pid"} here once listening')
    parser.add_argument('--state', help='JSON state file to load at startup (same format as POST /_emulator/reset)')
    parser.add_argument('--spec', default=None, help='path of the vendor OpenAPI document')
    parser.add_argument('--exit-with-parent', action='store_true', help='exit when the parent process goes away')
    args = parser.parse_args(argv)
    if args.https_port is not None and not (args.cert and args.key):
        parser.error('--https-port needs --cert and --key')
    return args


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    emulator = Emulator(load_operations(args.spec or default_spec_path()))
    if args.state:
        with open(args.state, encoding='utf-8') as handle:
            emulator.reset(json.load(handle))
    servers = [make_server(emulator, args.host, args.http_port)]
    https_url = None
    if args.https_port is not None:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(args.cert, args.key)
        servers.append(make_server(emulator, args.host, args.https_port, context))
        https_url = f'https://{args.host}:{servers[1].server_address[1]}'
    for server in servers:
        threading.Thread(target=server.serve_forever, kwargs={'poll_interval': 0.2}, daemon=True).start()
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_args: stop.set())
    info = {'http': f'http://{args.host}:{servers[0].server_address[1]}', 'https': https_url, 'pid': os.getpid()}
    if args.ready_file:
        write_ready_file(args.ready_file, info)
    else:
        print(json.dumps(info), flush=True)
    parent = os.getppid()
    while not stop.wait(0.5):
        if args.exit_with_parent and os.getppid() != parent:
            break
    for server in servers:
        server.shutdown()
        server.server_close()
    if args.ready_file:
        try:
            os.unlink(args.ready_file)
        except OSError:
            pass
    return 0


if __name__ == '__main__':
    sys.exit(main())
