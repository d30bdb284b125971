"""Deployment tooling for audiochain: template checks (`deploy.validate`) and code packages (`deploy.build`).

Never deployed itself. It may use the development environment (pyyaml, pip, Node.js for Fun's validator).
"""
