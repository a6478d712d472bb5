#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) accountops.cloud contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type  # pylint: disable=invalid-name

DOCUMENTATION = r'''
module: cloud_user_contact
short_description: Set contact fields of an Acronis Cyber Protect Cloud account
version_added: 1.0.0
description:
  - Reads the account and changes only the contact fields given in O(contact) that differ, with one
    C(PUT /users/{id}) carrying those fields and the revision C(version) just read. Fields not given are left as they are
    (the API merges the contact).
  - V("") clears a field; an empty field on the server (C(null) or V("")) equals V("").
  - If the account was changed by someone else between the read and the write, the module reads it again and applies only
    what still differs.
author:
  - accountops.cloud maintainers (@accountops)
extends_documentation_fragment:
  - accountops.cloud.cloud_auth
  - accountops.cloud.connection
  - accountops.cloud.user_selector
  - accountops.cloud.attributes
options:
  contact:
    description:
      - The contact fields to manage. Only the fields given are compared and changed.
      - Each value is a string of at most 1000 characters; a number is taken as text. A list, a dictionary or a
        boolean is refused before any request (quote values such as C(NO) or C(yes) in YAML).
    type: dict
    required: true
    suboptions:
      firstname:
        description: First name.
        type: raw
      lastname:
        description: Last name.
        type: raw
      address1:
        description: First address line.
        type: raw
      address2:
        description: Second address line.
        type: raw
      city:
        description: City.
        type: raw
      state:
        description: State or region.
        type: raw
      zipcode:
        description: Postal code.
        type: raw
      country:
        description: Country.
        type: raw
      phone:
        description: Phone number.
        type: raw
      fax:
        description: Fax number.
        type: raw
      title:
        description: Job title.
        type: raw
      website:
        description: URL of the user's organization.
        type: raw
      industry:
        description: Industry name.
        type: raw
      organization_size:
        description: Size of the user's organization, for example C(50-100).
        type: raw
      language:
        description: Language code of the contact, for example C(en).
        type: raw
      email:
        description:
          - Not accepted here; setting it fails with a message pointing to M(accountops.cloud.cloud_user_email),
            because an activated account's email changes only after the user confirms it.
        type: raw
seealso:
  - module: accountops.cloud.cloud_user_email
  - module: accountops.cloud.cloud_users
  - name: Changing a user account contact info (Acronis developer guide)
    description: The API call this module makes.
    link: https://developer.acronis.com/doc/account-management/v2/guide/users/changing-contact-info
'''

EXAMPLES = r'''
- name: Set the name and the city, leave every other field as it is
  accountops.cloud.cloud_user_contact:
    base_url: https://eu2-cloud.acronis.com
    client_id: "{{ acronis_client_id }}"
    client_secret: "{{ acronis_client_secret }}"
    login: jdoe
    contact:
      firstname: John
      lastname: Doe
      city: Rivertown

- name: Clear the fax number
  accountops.cloud.cloud_user_contact:
    user_id: 1c234e69-5469-424a-a6d1-ff5658b387a6
    contact:
      fax: ""
'''

RETURN = r'''
user:
  description: The account as the API returned it after the run (as read, in check mode or when nothing changed).
  returned: success
  type: dict
  sample:
    id: 1c234e69-5469-424a-a6d1-ff5658b387a6
    login: jdoe
    version: 4
    contact: {email: john.doe@example.com, firstname: John, lastname: Doe, city: Rivertown, fax: ""}
diff:
  description: The managed contact fields that change, before and after, when run with C(--diff).
  returned: when diff mode is on
  type: dict
  sample: {before: {contact: {city: Oldtown}}, after: {contact: {city: Rivertown}}}
'''

from ansible_collections.accountops.cloud.plugins.module_utils._module import run_module
from ansible_collections.accountops.cloud.plugins.module_utils._tasks import CLOUD_USER_CONTACT


def main():
    run_module(CLOUD_USER_CONTACT)


if __name__ == "__main__":
    main()
