# integ on Nomad: a periodic batch job per shard, all sharing one PostgreSQL database and the
# `database` secret store. One file, run once per shard:
#
#   for i in 1 2 3 4; do nomad job run -var shard=$i -var shards=4 deploy/nomad/integ.nomad.hcl; done
#
# `integ sync --shard I/N` syncs only the accounts whose stable hash falls in shard I of N; run
# every shard from 1 to N (`integ status --shards N` shows which shard owns each account).
#
# Secrets come from the Nomad Variable nomad/jobs/integ (see deploy/README.md), e.g.:
#   nomad var put nomad/jobs/integ database_password=... secret_key=... jobber_client_secret=...
# Each job reads it through its workload identity; with ACLs on, grant the jobs read access to
# that path (deploy/README.md has the policy).

variable "shard" {
  type        = number
  description = "This job's shard, 1 to shards"
  default     = 1
}

variable "shards" {
  type        = number
  description = "How many shards (jobs) split the accounts"
  default     = 4
}

variable "image" {
  type    = string
  default = "registry.example.com/integ:0.1.0"
}

variable "database_url" {
  type    = string
  default = "postgres://integ@postgres.example.internal:5432/integ?sslmode=verify-full"
}

job "integ-sync" {
  # One job per shard: a block label cannot hold a variable, the id can.
  id   = "integ-sync-${var.shard}"
  type = "batch"

  periodic {
    crons     = ["*/15 * * * *"]
    time_zone = "UTC"
    # A launch is skipped while this shard's previous one still runs. A convenience, not a lock:
    # a manual `nomad job periodic force`, a client cut off from the servers whose allocation
    # still runs, or a second cluster can overlap. integ's per-account advisory lock in
    # PostgreSQL is the lock: a second worker on an account exits 5 and changes nothing.
    prohibit_overlap = true
  }

  group "sync" {
    # Retries for a crash or exit 1 (network, provider, disk); the next launch comes anyway.
    # Exit 2, 3, 4 and 5 are not worth an immediate retry, but Nomad cannot tell exit codes
    # apart, so keep the retries few.
    restart {
      attempts = 1
      delay    = "30s"
      mode     = "fail"
    }
    reschedule {
      attempts  = 0
      unlimited = false
    }

    task "integ" {
      driver = "docker"
      # The image's non-root user, which owns the key file the template writes.
      user = "10001"

      config {
        image = var.image
        # --max-duration ends the run cleanly between pages after 12 minutes, before the next
        # launch; kill_timeout below is the backstop.
        args            = ["sync", "--shard", "${var.shard}/${var.shards}", "--quiet", "--max-duration", "720s"]
        readonly_rootfs = true
        cap_drop        = ["ALL"]
        security_opt    = ["no-new-privileges"]
      }

      # SIGTERM waits while a rotated token is being saved; give it time before the SIGKILL.
      kill_timeout = "60s"

      env {
        INTEG_DATABASE_URL    = var.database_url
        INTEG_SECRET_STORE    = "database"
        INTEG_SECRET_KEY_FILE = "/secrets/integ.key"
        # A folder integ creates (0700) inside the task's writable local/ folder.
        INTEG_HOME       = "/local/integ-home"
        JOBBER_CLIENT_ID = "your-jobber-client-id"
      }

      # The key as a file only the integ user can read: integ refuses a key file that its group
      # or others may read. secrets/ is a per-task tmpfs.
      template {
        destination = "secrets/integ.key"
        perms       = "0400"
        uid         = 10001
        gid         = 10001
        data        = "{{ with nomadVar \"nomad/jobs/integ\" }}{{ .secret_key }}{{ end }}"
      }

      # The database password and the client secret, as environment for integ only.
      template {
        destination = "secrets/integ.env"
        env         = true
        perms       = "0400"
        uid         = 10001
        gid         = 10001
        data        = <<-EOT
          {{ with nomadVar "nomad/jobs/integ" -}}
          INTEG_DATABASE_PASSWORD={{ .database_password | toJSON }}
          JOBBER_CLIENT_SECRET={{ .jobber_client_secret | toJSON }}
          {{- end }}
        EOT
      }

      # From BENCHMARKS.md "PostgreSQL and many workers": 30 MiB peak RSS per worker, flat;
      # about 0.1 ms of CPU per job written; a sync mostly waits on Jobber's cost budget.
      resources {
        cpu        = 200
        memory     = 64
        memory_max = 256
      }
    }
  }
}
