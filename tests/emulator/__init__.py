# Copyright: accountops.cloud maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Local API emulator for tests: see README.md."""
