# A one-off batch job that creates or upgrades integ's schema in PostgreSQL (`integ db migrate`,
# one transaction; a schema newer than the image is refused with exit 2). Run it before the first
# sync and after every image upgrade:
#
#   nomad job run deploy/nomad/integ-migrate.nomad.hcl
#
# It reads the password from the same Nomad Variable as the sync jobs (nomad/jobs/integ).

variable "image" {
  type    = string
  default = "registry.example.com/integ:0.1.0"
}

variable "database_url" {
  type    = string
  default = "postgres://integ@postgres.example.internal:5432/integ?sslmode=verify-full"
}

job "integ-migrate" {
  type = "batch"

  group "migrate" {
    restart {
      attempts = 2
      delay    = "15s"
      mode     = "fail"
    }
    reschedule {
      attempts  = 0
      unlimited = false
    }

    task "integ" {
      driver = "docker"
      user   = "10001"

      config {
        image = var.image
        # INTEG_DATABASE_URL names the database; no --url needed.
        args            = ["db", "migrate"]
        readonly_rootfs = true
        cap_drop        = ["ALL"]
        security_opt    = ["no-new-privileges"]
      }

      env {
        INTEG_DATABASE_URL = var.database_url
        INTEG_HOME         = "/local/integ-home"
      }

      template {
        destination = "secrets/integ.env"
        env         = true
        perms       = "0400"
        uid         = 10001
        gid         = 10001
        data        = <<-EOT
          {{ with nomadVar "nomad/jobs/integ" -}}
          INTEG_DATABASE_PASSWORD={{ .database_password | toJSON }}
          {{- end }}
        EOT
      }

      resources {
        cpu        = 200
        memory     = 64
        memory_max = 256
      }
    }
  }
}
