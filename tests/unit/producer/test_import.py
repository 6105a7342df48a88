import json
import subprocess
import sys
import textwrap

from runstream import producer


def test_the_short_import_path_is_the_client_package():
    from runstream.entrypoints import producer as package

    assert producer.Producer is package.Producer
    assert set(producer.__all__) == set(package.__all__)


def test_importing_the_client_loads_no_server_library():
    script = textwrap.dedent(
        """
        import json, sys
        import runstream.producer
        servers = ("flask", "sqlalchemy", "redis", "gevent", "gunicorn",
                   "dependency_injector", "pymysql")
        print(json.dumps(sorted(m for m in sys.modules if m.split(".")[0] in servers)))
        """
    )

    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    )

    assert json.loads(done.stdout) == []
